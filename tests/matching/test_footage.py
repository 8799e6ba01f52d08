"""One footage, many posts: real clips reposted by several channels become one sighting per person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svidok.analyzers.near_duplicates import PerceptualAnalyzer
from svidok.foundation.archive import Archive, ItemRecord, MediaRecord
from svidok.matching.base import Candidate
from svidok.matching.footage import aligned_media, footage_of, update_footage
from svidok.matching.footage_views import sighting_posts
from svidok.matching.sightings import list_sightings
from svidok.matching.upsert import upsert_candidates
from svidok.pipeline import run_analysis
from tests.analyzers.near_duplicate_media import crop, pan, picture, watermark, write_clip

TRIM_START_S = 1.7


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("footage")
    frames = pan(picture("astronaut"), 6.0)
    return {
        "original": write_clip(folder / "original.mp4", frames),
        "repost": write_clip(folder / "repost.mp4", [watermark(crop(f)) for f in frames[::2]], fps=12, crf=34),
        "excerpt": write_clip(folder / "excerpt.mp4", frames[int(TRIM_START_S * 25):int(4.6 * 25)]),
        "other": write_clip(folder / "other.mp4", pan(picture("coffee"), 6.0)),
    }


def archive(ws, clips: dict[str, Path], *names: str) -> dict[str, str]:  # noqa: ANN001 - Workspace
    """Each clip posted by its own channel, then hashed by the real perceptual analyzer."""
    store = Archive(ws, "telegram", "test")
    media = {}
    for name in names:
        item = ItemRecord("telegram", f"{name}/1", text=f"post of {name}", channel=name, url=f"https://t.me/{name}/1",
                          posted_at="2024-03-01T10:00:00+00:00", media=[MediaRecord("video", path=clips[name])])
        media[name] = store.save_item(item).media[0].sha256
    assert run_analysis(ws, [PerceptualAnalyzer()]).failed == 0
    return media


def person(ws) -> int:  # noqa: ANN001
    with ws.transaction():
        return ws.conn.execute("INSERT INTO person (name, created_at) VALUES ('Іван Коваль', 'now') RETURNING id").scalar_one()


def face(person_id: int, media: str, start: float, end: float, score: float = 0.8) -> Candidate:
    reason = {"kind": "face", "distance": 0.4, "face_id": 1, "track_id": None}
    return Candidate(person_id, media, f"p{person_id}:m{media}:face:{start:.2f}-{end:.2f}s", score, [reason],
                     {"faces": "faces 1"}, [1], span_start_s=start, span_end_s=end)


def test_copies_share_one_footage_group_and_the_excerpt_knows_where_it_was_cut(fresh_workspace, clips) -> None:
    ws = fresh_workspace
    media = archive(ws, clips, "original", "repost", "excerpt", "other")
    report = update_footage(ws)
    assert (report.grouped, report.linked) == (4, 2)
    assert set(footage_of(ws, media["original"])) == {media["original"], media["repost"], media["excerpt"]}
    assert footage_of(ws, media["other"]) == [media["other"]]
    offset, start, end = ws.conn.execute("SELECT offset_s, start_s, end_s FROM footage_link WHERE media_sha256 = ?"
                                         " AND other_sha256 = ?", (media["excerpt"], media["original"])).fetchone()
    assert abs(offset - TRIM_START_S) <= 0.5 and end - start >= 2.0
    mapped = {a.media_sha256: a for a in aligned_media(ws, media["excerpt"], 0.5, 1.5)}
    assert abs(mapped[media["original"]].start_s - (0.5 + offset)) < 1e-6
    assert set(mapped) == {media["original"], media["repost"]}
    assert update_footage(ws).grouped == 0                                            # nothing new: nothing to do


def test_one_sighting_per_person_and_footage_listing_every_post(fresh_workspace, clips) -> None:
    ws = fresh_workspace
    media = archive(ws, clips, "original", "repost", "excerpt", "other")
    update_footage(ws)
    p = person(ws)
    cands = [face(p, media["original"], 2.0, 4.0, 0.9), face(p, media["repost"], 2.1, 4.0, 0.85),
             face(p, media["excerpt"], 0.3, 2.3, 0.8), face(p, media["other"], 2.0, 4.0, 0.7)]
    report = upsert_candidates(ws, cands, "test", [])
    assert (report.new, report.attached) == (2, 2)
    queue = {s.media_sha256: s for s in list_sightings(ws)}
    assert set(queue) == {media["original"], media["other"]}
    assert sorted(queue[media["original"]].other_media) == sorted([media["repost"], media["excerpt"]])
    posts = sighting_posts(ws, queue[media["original"]].id)
    assert [p.primary for p in posts] == [True, False, False]
    channels = {post.media_sha256: (post.captures[0].channel, post.captures[0].url, post.captures[0].note)
                for post in posts}
    assert channels[media["repost"]] == ("repost", "https://t.me/repost/1", "post of repost")
    again = upsert_candidates(ws, cands, "test", [])                                     # re-running adds nothing
    assert (again.new, again.attached, again.superseded) == (0, 0, 0) and len(list_sightings(ws)) == 2


def test_another_moment_of_the_same_footage_is_its_own_sighting(fresh_workspace, clips) -> None:
    ws = fresh_workspace
    media = archive(ws, clips, "original", "excerpt")
    update_footage(ws)
    p = person(ws)
    upsert_candidates(ws, [face(p, media["excerpt"], 0.2, 0.6)], "test", [])           # the original's 1.9-2.3 s
    report = upsert_candidates(ws, [face(p, media["original"], 5.2, 5.9)], "test", [])
    assert (report.new, report.attached) == (1, 0)


def test_a_repost_archived_after_a_decision_joins_the_decided_sighting(fresh_workspace, clips) -> None:
    ws = fresh_workspace
    media = archive(ws, clips, "original")
    update_footage(ws)
    p = person(ws)
    upsert_candidates(ws, [face(p, media["original"], 2.0, 4.0)], "test", [])
    with ws.transaction():
        ws.conn.execute("UPDATE sighting SET status = 'confirmed'")
    media.update(archive(ws, clips, "repost"))
    update_footage(ws)
    report = upsert_candidates(ws, [face(p, media["repost"], 2.0, 4.0, 0.95)], "test", [])
    assert (report.new, report.attached) == (0, 1)
    [sighting] = list_sightings(ws)
    assert (sighting.status, sighting.other_media) == ("confirmed", [media["repost"]])
    details = json.loads(ws.conn.execute("SELECT details FROM audit WHERE action = 'sighting.attach'").fetchone()[0])
    assert details["media_sha256"] == media["repost"] and details["status"] == "confirmed"


def test_a_pending_duplicate_from_before_the_grouping_is_folded_into_the_older_sighting(fresh_workspace, clips) -> None:
    ws = fresh_workspace
    media = archive(ws, clips, "original", "repost")
    p = person(ws)
    cands = [face(p, media["original"], 2.0, 4.0), face(p, media["repost"], 2.0, 4.0)]
    assert upsert_candidates(ws, cands, "test", []).new == 2                           # not grouped yet: two
    update_footage(ws)
    report = upsert_candidates(ws, cands, "test", [])
    assert (report.superseded, report.attached) == (1, 1)
    statuses = {s.media_sha256: (s.status, s.other_media, s.evidence_note) for s in list_sightings(ws)}
    first_id = min(s.id for s in list_sightings(ws))
    assert statuses[media["original"]][:2] == ("pending", [media["repost"]])
    note = f"same footage as sighting {first_id}; every post is listed there"
    assert statuses[media["repost"]] == ("withdrawn", [], note)
    again = upsert_candidates(ws, cands, "test", [])
    assert (again.new, again.attached, again.superseded, again.updated) == (0, 0, 0, 0)


def test_a_post_detached_by_a_reviewer_is_queued_on_its_own(fresh_workspace, clips) -> None:
    from svidok.matching.footage import detach_post

    ws = fresh_workspace
    media = archive(ws, clips, "original", "repost")
    update_footage(ws)
    p = person(ws)
    cands = [face(p, media["original"], 2.0, 4.0, 0.9), face(p, media["repost"], 2.0, 4.0)]
    upsert_candidates(ws, cands, "test", [])
    [sighting] = list_sightings(ws)
    assert detach_post(ws, sighting.id, media["repost"], "rev1", "another interrogation, same room")
    assert not detach_post(ws, sighting.id, media["repost"], "rev1", "again")
    assert aligned_media(ws, media["original"], 2.0, 4.0) == []                  # the link is not followed
    report = upsert_candidates(ws, cands, "test", [])
    assert (report.new, report.attached) == (1, 0)
    assert [s.other_media for s in list_sightings(ws)] == [[], []]
