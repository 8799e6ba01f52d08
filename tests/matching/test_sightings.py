"""Matching into the sighting queue: retroactive search, name evidence, no duplicates."""

from __future__ import annotations

import pytest

from svidok.foundation.workspace import Workspace
from tests.matching.conftest import add_transcript, archive_photo, insert_faces

pytestmark = pytest.mark.models


def test_enrolling_finds_already_archived_face(run_json, person_with_consent, photos, workspace_path) -> None:
    person, _ = person_with_consent
    media = archive_photo(run_json, photos["archive"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, media, photos["archive"])
    assert run_json("enroll", str(person), str(photos["reference"]))[0]["status"] == "accepted"
    queue = run_json("sightings", "list")
    assert len(queue) == 1
    sighting = queue[0]
    assert {"id", "person_id", "media_sha256", "score", "status", "reasons"} <= set(sighting)
    assert (sighting["person_id"], sighting["media_sha256"], sighting["status"]) == (person, media, "pending")
    face = sighting["reasons"][0]
    assert face["kind"] == "face" and face["distance"] < 0.4 and face["frames"] == 1
    assert 0.9 < sighting["score"] <= 1.0
    assert sighting["item_id"] is not None and sighting["reference_ids"] == [face["reference_id"]]
    assert run_json("match") ["new_sightings"] == 0                 # re-running adds nothing
    assert len(run_json("sightings", "list")) == 1


def test_name_joins_face_sighting_and_name_alone_raises_one(run_json, person_with_consent, photos,
                                                             workspace_path) -> None:
    person, _ = person_with_consent
    run_json("enroll", str(person), str(photos["reference"]))
    with_face = archive_photo(run_json, photos["archive"], note="Пленный назвался: Петренко Александр")
    no_face = archive_photo(run_json, photos["blank"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, with_face, photos["archive"])
        add_transcript(ws, no_face, "Я Петренко Олександр, сімдесят друга бригада")
    assert run_json("match")["new_sightings"] == 2
    queue = run_json("sightings", "list", "--person", str(person))
    assert [s["media_sha256"] for s in queue] == [with_face, no_face]       # highest score first
    both, name_only = queue
    assert [r["kind"] for r in both["reasons"]] == ["face", "name"]
    assert both["reasons"][1]["field"] == "post" and "Петренко" in both["reasons"][1]["text"]
    assert [r["kind"] for r in name_only["reasons"]] == ["name"]
    assert name_only["reasons"][0]["time"] == 3.0 and name_only["reasons"][0]["field"] == "transcript"
    assert name_only["score"] < both["score"]
    assert run_json("match")["new_sightings"] == 0


def test_decided_sightings_are_not_touched(run_json, person_with_consent, photos, workspace_path) -> None:
    person, _ = person_with_consent
    media = archive_photo(run_json, photos["archive"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, media, photos["archive"])
    run_json("enroll", str(person), str(photos["reference"]))
    with Workspace.open(workspace_path) as ws:
        ws.conn.execute("UPDATE sighting SET status = 'rejected', score = 0.123")
    assert run_json("match")["new_sightings"] == 0
    assert [(s["status"], s["score"]) for s in run_json("sightings", "list")] == [("rejected", 0.123)]
    assert run_json("sightings", "list", "--status", "pending") == []


def test_stranger_raises_nothing(run_json, person_with_consent, photos, workspace_path, tmp_path) -> None:
    from skimage import data

    from tests.matching.conftest import save_jpeg

    person, _ = person_with_consent
    stranger = save_jpeg(data.chelsea(), tmp_path / "cat.jpg")                # no human face
    media = archive_photo(run_json, stranger)
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, media, stranger)
    run_json("enroll", str(person), str(photos["reference"]))
    assert run_json("sightings", "list") == []
