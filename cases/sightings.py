"""What a reviewer sees: the queue of pending sightings and one sighting's comparison material.

Plain queries returning typed records; the views only render them. A sighting is always a
*candidate*: nothing here calls it an identification.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from svidok.analyzers.face_analyzer import CROP_MARGIN
from svidok.cases.roles import allowed
from svidok.cases.users import User
from svidok.foundation.text import find_name
from svidok.foundation.workspace import Workspace

CLIP_PAD_S = 3.0


@dataclass(frozen=True)
class QueueFilter:
    person_id: int | None = None
    person_name: str | None = None   # part of the person's name (case-sensitive for Cyrillic: SQLite LIKE)
    source: str | None = None        # source kind (telegram, tdesktop, ...) or channel name
    date_from: str | None = None     # YYYY-MM-DD, compared with the post date
    date_to: str | None = None
    mine: bool = False               # the pending sightings this user decided (to amend), not the undecided
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class QueueRow:
    id: int
    person_id: int
    person_name: str
    score: float
    media_sha256: str
    source_kind: str | None
    channel: str | None
    posted_at: str | None
    kinds: list[str]


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int               # counted up to COUNT_CAP; `more` says there are more than that
    filter: QueueFilter
    more: bool = False


COUNT_CAP = 1000             # counting 100,000 pending rows on every page view costs ~1 s


def _queue_where(user: User, f: QueueFilter) -> tuple[str, list[Any]]:
    where, args = ["s.status = 'pending'"], []
    if allowed(user.role, "sighting.decide") or f.mine:
        mine = "EXISTS" if f.mine else "NOT EXISTS"
        where.append(f"{mine} (SELECT 1 FROM decision d WHERE d.sighting_id = s.id AND d.reviewer_id = ?)")
        args.append(user.id)
    if f.person_id is not None:
        where.append("s.person_id = ?")
        args.append(f.person_id)
    if f.person_name:
        where.append("s.person_id IN (SELECT id FROM person WHERE name LIKE ?)")
        args.append(f"%{f.person_name}%")
    if f.source:
        where.append("(i.source_kind = ? OR i.channel = ?)")
        args += [f.source, f.source]
    if f.date_from:
        where.append("i.posted_at >= ?")
        args.append(f.date_from)
    if f.date_to:
        try:
            args.append((date.fromisoformat(f.date_to[:10]) + timedelta(days=1)).isoformat())
            where.append("i.posted_at < ?")
        except ValueError:                  # not a date: nothing was posted before it
            where.append("1 = 0")
    return " AND ".join(where), args


def pending_queue(ws: Workspace, user: User, f: QueueFilter) -> QueuePage:
    """Pending sightings this user has not decided on yet (with `f.mine`: has decided), highest score first."""
    where, args = _queue_where(user, f)
    item_join = "LEFT JOIN item i ON i.id = s.item_id" if (f.source or f.date_from or f.date_to) else ""
    total = ws.conn.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM sighting s {item_join} WHERE {where} LIMIT ?)"
                            " AS capped",
                            [*args, COUNT_CAP + 1]).fetchone()[0]
    rows = ws.conn.execute(
        f"SELECT s.id, s.person_id, p.name, s.score, s.media_sha256, i.source_kind, i.channel, i.posted_at,"
        f" s.reasons FROM sighting s LEFT JOIN item i ON i.id = s.item_id JOIN person p ON p.id = s.person_id"
        f" WHERE {where} ORDER BY s.score DESC, s.id LIMIT ? OFFSET ?", [*args, f.limit, f.offset],
    ).fetchall()
    out = [QueueRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                    sorted({x.get("kind", "?") for x in json.loads(r[8] or "[]")})) for r in rows]
    return QueuePage(out, min(total, COUNT_CAP), f, total > COUNT_CAP)


@dataclass(frozen=True)
class QueueSummary:
    """How many sightings wait on whom (counts only: nobody learns a verdict from them)."""

    first_review: int        # pending, no decision yet: any reviewer
    more_reviews: int        # pending with a decision: another reviewer (second, or third when allowed)
    yours_open: int          # pending, decided by this user: waiting on others (the user may still amend)
    with_admin: int          # conflict: waiting on an admin to resolve (cases/review_rules.py `settle`)


SUMMARY_TTL_S = 5.0
# database URL -> (when counted, pending, started, conflicts): counting 100,000 pending sightings
# costs ~10 ms, paid on every queue page by 20 reviewers at once (benchmarks/ui_load.py). A decision
# made in this process forgets them at once; work done elsewhere (a `match` run, another server)
# shows within SUMMARY_TTL_S. The user's own count is always current.
_shared_counts: dict[str, tuple[float, int, int, int]] = {}


def forget_queue_counts(ws: Workspace) -> None:
    """After a decision: the next queue page counts again."""
    _shared_counts.pop(ws.conn.url, None)


def queue_summary(ws: Workspace, user: User) -> QueueSummary:
    counted = _shared_counts.get(ws.conn.url)
    if counted is None or time.monotonic() - counted[0] > SUMMARY_TTL_S:
        pending = ws.conn.execute("SELECT COUNT(*) FROM sighting WHERE status = 'pending'").fetchone()[0]
        started = ws.conn.execute("SELECT COUNT(DISTINCT d.sighting_id) FROM decision d JOIN sighting s"
                                  " ON s.id = d.sighting_id WHERE s.status = 'pending'").fetchone()[0]
        conflicts = ws.conn.execute("SELECT COUNT(*) FROM sighting WHERE status = 'conflict'").fetchone()[0]
        counted = _shared_counts[ws.conn.url] = (time.monotonic(), pending, started, conflicts)
    _, pending, started, conflicts = counted
    yours = ws.conn.execute("SELECT COUNT(*) FROM decision d JOIN sighting s ON s.id = d.sighting_id"
                            " WHERE d.reviewer_id = ? AND s.status = 'pending'", (user.id,)).fetchone()[0]
    return QueueSummary(pending - started, started, yours, conflicts)


def neighbours(ws: Workspace, user: User, sighting_id: int, score: float) -> tuple[int | None, int | None]:
    """(previous, next) sighting in this user's queue order around a sighting."""
    where, args = _queue_where(user, QueueFilter())
    base = f"SELECT s.id FROM sighting s WHERE {where} AND s.id != ?"
    # the plain `s.score >= ?` / `<= ?` lets SQLite seek the (status, score) index instead of scanning it
    prev = ws.conn.execute(f"{base} AND s.score >= ? AND (s.score > ? OR s.id < ?) ORDER BY s.score ASC, s.id DESC"
                           " LIMIT 1", [*args, sighting_id, score, score, sighting_id]).fetchone()
    nxt = ws.conn.execute(f"{base} AND s.score <= ? AND (s.score < ? OR s.id > ?) ORDER BY s.score DESC, s.id ASC"
                          " LIMIT 1", [*args, sighting_id, score, score, sighting_id]).fetchone()
    return (prev[0] if prev else None, nxt[0] if nxt else None)


@dataclass(frozen=True)
class ReferencePhoto:
    id: int
    photo_date: str | None
    age: int | None
    box: list[int] | None = None          # the face in the photo: top, right, bottom, left (pixels)


@dataclass(frozen=True)
class FaceView:
    id: int
    time_s: float | None
    crop_sha256: str | None
    frame_sha256: str | None
    crop_box: list[int] | None = None     # the face in its crop: top, right, bottom, left (pixels)


@dataclass(frozen=True)
class TranscriptLine:
    start_s: float
    end_s: float
    text: str
    language: str
    highlight: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class SightingDetail:
    id: int
    status: str
    score: float
    reasons: list[dict[str, Any]]
    person: dict[str, Any]
    media: dict[str, Any]
    post: dict[str, Any] | None
    references: list[ReferencePhoto]
    faces: list[FaceView]
    clip: tuple[float, float] | None
    transcript: list[TranscriptLine]
    evidence_note: str | None
    conflict_reason: str | None = None    # why it went to an admin (cases/review_rules.py `settle`)


def age_at(born: str | None, on: str | None) -> int | None:
    if not born or not on:
        return None
    try:
        b, d = date.fromisoformat(born[:10]), date.fromisoformat(on[:10])
    except ValueError:
        return None
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def load_sighting(ws: Workspace, sighting_id: int, with_references: bool = True) -> SightingDetail | None:
    row = ws.conn.execute(
        "SELECT id, status, score, reasons, person_id, media_sha256, item_id, track_id, span_start_s, span_end_s,"
        " evidence_note, conflict_reason FROM sighting WHERE id = ?", (sighting_id,),
    ).fetchone()
    if row is None:
        return None
    reasons = json.loads(row[3] or "[]")
    person = _person(ws, row[4])
    media = dict(zip(("sha256", "mime", "ext", "size", "original_name"), ws.conn.execute(
        "SELECT sha256, mime, ext, size, original_name FROM media WHERE sha256 = ?", (row[5],)).fetchone() or
        (row[5], "application/octet-stream", "", 0, None)))
    faces = _faces(ws, row[7])
    span = _span(ws, row[7], row[8], row[9], reasons)
    clip = (max(0.0, span[0] - CLIP_PAD_S), span[1] + CLIP_PAD_S) if span and media["mime"].startswith("video") \
        else None
    refs = _references(ws, row[4], person.get("born")) if with_references else []
    return SightingDetail(row[0], row[1], row[2], reasons, person, media, _post(ws, row[6]), refs, faces, clip,
                          _transcript(ws, row[5], span, reasons), row[10], row[11])


def _person(ws: Workspace, person_id: int) -> dict[str, Any]:
    r = ws.conn.execute("SELECT id, name, name_variants, born, category, unit, disappeared_on FROM person"
                        " WHERE id = ?", (person_id,)).fetchone()
    return {"id": r[0], "name": r[1], "name_variants": json.loads(r[2] or "[]"), "born": r[3], "category": r[4],
            "unit": r[5], "disappeared_on": r[6]}


def _post(ws: Workspace, item_id: int | None) -> dict[str, Any] | None:
    if item_id is None:
        return None
    r = ws.conn.execute("SELECT id, source_kind, channel, url, posted_at, text, collected_at FROM item WHERE id = ?",
                        (item_id,)).fetchone()
    keys = ("id", "source_kind", "channel", "url", "posted_at", "text", "collected_at")
    return dict(zip(keys, r)) if r else None


def _references(ws: Workspace, person_id: int, born: str | None) -> list[ReferencePhoto]:
    rows = ws.conn.execute(
        "SELECT r.id, r.photo_date, r.box FROM reference r JOIN consent c ON c.id = r.consent_id"
        " WHERE r.person_id = ? AND c.revoked_at IS NULL ORDER BY r.photo_date DESC, r.id", (person_id,),
    ).fetchall()
    return [ReferencePhoto(r[0], r[1], age_at(born, r[1]), json.loads(r[2]) if r[2] else None) for r in rows]


def _faces(ws: Workspace, track_id: int | None, limit: int = 6) -> list[FaceView]:
    if track_id is None:
        return []
    best = ws.conn.execute("SELECT best_face_ids FROM track WHERE id = ?", (track_id,)).fetchone()
    ids = json.loads(best[0]) if best else []
    rows = ws.conn.execute("SELECT id, time_s, crop_sha256, frame_sha256, box FROM face WHERE track_id = ?"
                           " ORDER BY time_s", (track_id,)).fetchall()
    ranked = sorted(rows, key=lambda r: (r[0] not in ids, ids.index(r[0]) if r[0] in ids else 0, r[1] or 0))
    return [FaceView(*r[:4], box_in_crop(json.loads(r[4])) if r[4] else None) for r in ranked[:limit]]


def box_in_crop(box: list[int]) -> list[int]:
    """A face box (top, right, bottom, left) in its frame, moved into the face crop made from it
    (analyzers/face_analyzer.py `crop`: the box grown by CROP_MARGIN, clipped at the frame's top and left)."""
    top, right, bottom, left = box
    dy, dx = min(top, round((bottom - top) * CROP_MARGIN)), min(left, round((right - left) * CROP_MARGIN))
    return [dy, dx + right - left, dy + bottom - top, dx]


def _span(ws: Workspace, track_id: int | None, start: float | None, end: float | None,
          reasons: list[dict[str, Any]]) -> tuple[float, float] | None:
    if start is not None:
        return (start, end if end is not None else start)
    if track_id is not None:
        r = ws.conn.execute("SELECT start_s, end_s FROM track WHERE id = ?", (track_id,)).fetchone()
        if r and r[0] is not None:
            return (r[0], r[1] if r[1] is not None else r[0])
    times = [x["time"] for x in reasons if isinstance(x.get("time"), (int, float))]
    return (min(times), max(times)) if times else None


def _transcript(ws: Workspace, sha: str, span: tuple[float, float] | None,
                reasons: list[dict[str, Any]]) -> list[TranscriptLine]:
    names = [x["text"] for x in reasons if x.get("kind") == "name" and x.get("text")]
    lo, hi = (span[0] - 15, span[1] + 15) if span else (0.0, 60.0)
    rows = ws.conn.execute("SELECT start_s, end_s, text, language FROM transcript_segment WHERE media_sha256 = ?"
                           " AND end_s >= ? AND start_s <= ? ORDER BY start_s LIMIT 12", (sha, lo, hi)).fetchall()
    return [TranscriptLine(r[0], r[1], r[2], r[3], find_name(r[2], names)) for r in rows]
