"""`svidok analyze --reanalyze` then `svidok match`: the same sightings, not new ones.

A sighting is about a person in a media file (and, in a video, a stretch of time), not about
the track row an analysis happened to write; re-analysis replaces those rows.
"""

from __future__ import annotations

import pytest

from svidok.cases.decisions import record_decision
from svidok.cases.users import add_user, get_user
from svidok.foundation.workspace import Workspace
from tests.factories import evidence
from tests.matching.conftest import archive_clip, archive_photo

pytestmark = pytest.mark.models


def _decide(ws: Workspace, sighting_id: int, verdict: str, reviewers: tuple[str, ...]) -> None:
    for name in reviewers:
        user_id = add_user(ws, name, "reviewer", "a long enough passphrase")
        reasons = evidence() if verdict == "confirm" else {"observation": "the ears differ"}
        record_decision(ws, sighting_id, get_user(ws, user_id), verdict, **reasons)


def _tracks(ws: Workspace) -> set[int]:
    return {r[0] for r in ws.conn.execute("SELECT id FROM track")}


def test_reanalysis_and_match_keep_the_same_sightings(run_json, person_with_consent, photos, astronaut,
                                                       workspace_path, tmp_path) -> None:
    person, _ = person_with_consent
    photo = archive_photo(run_json, photos["archive"])
    video = archive_photo(run_json, archive_clip(tmp_path, astronaut))
    assert run_json("analyze")["failed"] == 0
    assert run_json("enroll", str(person), str(photos["reference"]))[0]["status"] == "accepted"
    before = {s["media_sha256"]: s for s in run_json("sightings", "list")}
    assert set(before) == {photo, video}
    with Workspace.open(workspace_path) as ws:
        old_tracks = _tracks(ws)
        _decide(ws, before[photo]["id"], "reject", ("rev1", "rev2"))          # decided: rejected
        _decide(ws, before[video]["id"], "confirm", ("rev3",))                 # one vote: still pending

    assert run_json("analyze", "--reanalyze")["failed"] == 0
    with Workspace.open(workspace_path) as ws:
        new_tracks = _tracks(ws)
    rejected_track = before[photo]["track_id"]
    assert new_tracks & old_tracks == {rejected_track}           # replaced, but for what reviewers decided on
    assert run_json("match")["new_sightings"] == 0
    after = run_json("sightings", "list")
    assert sorted((s["id"], s["media_sha256"]) for s in after) == sorted((s["id"], m) for m, s in before.items())
    by_media = {s["media_sha256"]: s for s in after}
    assert by_media[photo]["status"] == "rejected" and by_media[photo]["track_id"] == rejected_track
    pending = by_media[video]
    assert pending["status"] == "pending" and pending["track_id"] in new_tracks
    assert pending["reasons"][0]["track_id"] == pending["track_id"]
    with Workspace.open(workspace_path) as ws:
        face_ids = {r[0] for r in ws.conn.execute("SELECT id FROM face WHERE track_id = ?", (pending["track_id"],))}
        votes = ws.conn.execute("SELECT sighting_id, count(*) FROM decision GROUP BY sighting_id").fetchall()
    assert pending["reasons"][0]["face_id"] in face_ids
    assert sorted(votes) == sorted([(before[photo]["id"], 2), (before[video]["id"], 1)])
    assert run_json("match")["new_sightings"] == 0
    assert len(run_json("sightings", "list")) == 2
