"""Which sighting a candidate is: person x media x where, never a track or face row id."""

from __future__ import annotations

import json

from svidok.matching.base import Candidate
from svidok.matching.upsert import upsert

MEDIA = "ab" * 32


def _seed(ws) -> int:  # noqa: ANN001 - Workspace
    ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, first_seen, path) VALUES (?, 1, 'video/mp4', 'mp4',"
                    " 'now', 'media/x.mp4')", (MEDIA,))
    return ws.conn.execute("INSERT INTO person (name, created_at) VALUES ('Іван Коваль', 'now') RETURNING id").scalar_one()


def _face(person: int, start: float | None, end: float | None, score: float = 0.8, track: int = 7) -> Candidate:
    reason = {"kind": "face", "distance": 0.4, "track_id": track, "face_id": track * 10}
    return Candidate(person, MEDIA, f"p{person}:m{MEDIA}:face:{start}-{end}", score, [reason], {"faces": "faces 1"},
                     [1], span_start_s=start, span_end_s=end)


def _rows(ws) -> list[tuple]:  # noqa: ANN001
    return ws.conn.execute("SELECT id, status, span_start_s, span_end_s, reasons FROM sighting ORDER BY id").fetchall()


def test_a_moved_span_refreshes_the_same_sighting_and_a_new_stretch_adds_one(fresh_workspace) -> None:
    ws = fresh_workspace
    person = _seed(ws)
    assert upsert(ws, [_face(person, 10.0, 14.0)], "test", []) == (1, 0)
    assert upsert(ws, [_face(person, 10.5, 14.5, 0.82, track=8)], "test", []) == (0, 1)   # re-analysed
    [(_, status, start, end, reasons)] = _rows(ws)
    assert (status, start, end, json.loads(reasons)[0]["track_id"]) == ("pending", 10.5, 14.5, 8)
    assert upsert(ws, [_face(person, 40.0, 42.0)], "test", []) == (1, 0)                  # another appearance
    assert len(_rows(ws)) == 2


def test_two_tracks_over_one_stretch_make_one_sighting_and_decided_ones_stay(fresh_workspace) -> None:
    ws = fresh_workspace
    person = _seed(ws)
    assert upsert(ws, [_face(person, 1.0, 5.0, 0.9), _face(person, 2.0, 4.0, 0.7, track=9)], "test", []) == (1, 0)
    ws.conn.execute("UPDATE sighting SET status = 'rejected'")
    assert upsert(ws, [_face(person, 1.2, 5.1, 0.95, track=11)], "test", []) == (0, 0)
    assert [(r[1], r[2]) for r in _rows(ws)] == [("rejected", 1.0)]


def test_an_old_key_still_held_by_a_moved_sighting_is_not_reused(fresh_workspace) -> None:
    ws = fresh_workspace
    person = _seed(ws)
    upsert(ws, [_face(person, 1.0, 2.0)], "test", [])
    ws.conn.execute("UPDATE sighting SET span_start_s = 30, span_end_s = 31")             # moved far since
    assert upsert(ws, [_face(person, 1.0, 2.0)], "test", []) == (1, 0)
    keys = [r[0] for r in ws.conn.execute("SELECT key FROM sighting ORDER BY id")]
    assert keys[1] == keys[0] + "#2"
