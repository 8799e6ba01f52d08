"""Writing candidates into the sighting queue: which sighting a candidate is.

A sighting is identified by what it is about, never by a row that re-analysis replaces:
- a name candidate: the person x the media (its key, `p<person>:m<sha256>:names`);
- a face candidate: the person x the media x where — in a video the stretch of time its
  track covers, in a photo the whole photo. An existing face sighting of the same person and
  media is the same sighting when the two stretches overlap (within `SPAN_SLACK_S`, since
  re-analysis may sample other frames); a stretch that is unknown (a photo, or an old row
  whose track is gone) covers the whole media.
- one footage, many posts: a sighting also holds the other media showing the same footage
  (`sighting_media`: reposts found by `matching.footage`, each with its own evidence). A
  candidate on such a media, for the same person and at the same place in the footage (its
  stretch mapped along the footage links), is that sighting: it is attached to it, whatever
  the sighting's status, so that a decision covers every post of the footage.

`upsert` then, for each candidate, best first:
1. finds its own sighting (one raised on its media, or holding its media as another post);
   one that an earlier (better) candidate of this run already took for this media is the same
   appearance seen twice, so the candidate adds nothing;
2. finds the sighting of the same footage (`matching.footage.aligned_media`), the oldest;
3. inserts a new `pending` sighting when there is neither; attaches the media to the footage's
   sighting when there is no own one, or when the own one is a pending duplicate nobody has
   decided on yet (it is withdrawn, "same footage as sighting N"); otherwise refreshes its own
   (score, reasons and evidence pointers of a pending one; a withdrawn one is reopened;
   decided sightings (confirmed, rejected, conflict) and their decisions are left as they are);
4. withdraws pending name-only sightings whose mention joined a face sighting, and audits the
   run and every media attached to a sighting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from svidok.foundation.clock import utc_now
from svidok.matching.base import Candidate

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace
    from svidok.matching.persons import Person

REFRESHABLE = ("pending", "withdrawn")
SPAN_SLACK_S = 1.0          # stretches this close to overlapping are the same appearance


@dataclass(frozen=True)
class Existing:
    """A sighting already in the queue, with where it is in the candidate's media."""

    id: int
    status: str
    score: float
    reasons: str
    track_id: int | None
    start: float | None
    end: float | None
    primary: bool = True            # raised on this media (False: holds it as another post)
    via: str = ""                   # for a footage sighting: its post the candidate's media is aligned with


@dataclass(frozen=True)
class UpsertReport:
    new: int = 0                    # new or reopened sightings
    updated: int = 0                # pending sightings refreshed
    attached: int = 0               # media attached to the sighting of their footage
    superseded: int = 0             # pending duplicates withdrawn into the sighting of their footage


def upsert(ws: "Workspace", candidates: list[Candidate], actor: str, persons: list["Person"]) -> tuple[int, int]:
    """Write candidates (best first) into the queue; returns (new or reopened, refreshed)."""
    report = upsert_candidates(ws, candidates, actor, persons)
    return report.new, report.updated


def upsert_candidates(ws: "Workspace", candidates: list[Candidate], actor: str,
                      persons: list["Person"]) -> UpsertReport:
    """Write candidates (best first) into the queue (see module doc)."""
    now, counts = utc_now(), {"new": 0, "updated": 0, "attached": 0, "superseded": 0}
    taken: set[tuple[int, str]] = set()
    with ws.transaction():
        for cand in candidates:
            own = find_sighting(ws, cand, {s for s, m in taken if m == cand.media_sha256})            # 1
            if own is not None and (own.id, cand.media_sha256) in taken:
                continue
            footage = find_footage_sighting(ws, cand, None if own is None else own.id)              # 2
            sighting_id = _place(ws, cand, own, footage, now, counts, actor)                       # 3
            taken.add((sighting_id, cand.media_sha256))
            _supersede_name_only(ws, cand, sighting_id, now)                                       # 4
        ws.audit.append(actor, "match.run", "", {"persons": [p.id for p in persons], "new_sightings": counts["new"],
                                                 "updated": counts["updated"], "attached": counts["attached"],
                                                 "superseded": counts["superseded"], "candidates": len(candidates)})
    return UpsertReport(**counts)


def _place(ws: "Workspace", cand: Candidate, own: Existing | None, footage: Existing | None, now: str,
           counts: dict[str, int], actor: str) -> int:
    """Step 3: insert, attach to the footage's sighting, or refresh its own; returns the sighting id."""
    if own is None and footage is None:
        counts["new"] += 1
        return _insert(ws, cand, now)
    if footage is not None and (own is None or (own.primary and own.status == "withdrawn")
                                or _duplicate(ws, own, footage)):
        if own is not None and own.status == "pending":
            _withdraw_duplicate(ws, own, footage.id, now)
            counts["superseded"] += 1
        counts["attached"] += _attach(ws, cand, footage, now, actor)
        return footage.id
    if not own.primary:
        _refresh_attached(ws, cand, own, now)
    elif _refresh(ws, cand, own, now):
        counts["new"] += own.status == "withdrawn"
        counts["updated"] += own.status == "pending"
    return own.id


def find_sighting(ws: "Workspace", cand: Candidate, taken: set[int] = frozenset()) -> Existing | None:
    """The sighting this candidate is about: an untaken one if any, else a taken one, else None."""
    attached = [e for e in _attached(ws, cand.person_id, cand.media_sha256, cand.kind) if e.status != "withdrawn"]
    if cand.kind == "name":
        rows = ws.conn.execute(_SELECT + " WHERE s.key = ?", (cand.key,)).fetchall()
        same = [Existing(*r) for r in rows] + attached
    else:
        face_evidence = _has_reason(ws, "s.reasons", "'face'")
        rows = ws.conn.execute(
            _SELECT + f" WHERE s.person_id = ? AND s.media_sha256 = ? AND {face_evidence} ORDER BY s.id",
            (cand.person_id, cand.media_sha256))
        same = [e for e in [*(Existing(*r) for r in rows), *attached]
                if _overlap(e.start, e.end, cand.span_start_s, cand.span_end_s) is not None]
    if not same:
        return None
    free = [e for e in same if e.id not in taken]
    return max(free or same, key=lambda e: (e.status != "withdrawn",
                                            _overlap(e.start, e.end, cand.span_start_s, cand.span_end_s)))


_SELECT = ("SELECT s.id, s.status, s.score, s.reasons, s.track_id, COALESCE(s.span_start_s, t.start_s),"
           " COALESCE(s.span_end_s, t.end_s, t.start_s) FROM sighting s LEFT JOIN track t ON t.id = s.track_id")


def _attached(ws: "Workspace", person_id: int, media: str, kind: str | None) -> list[Existing]:
    """Sightings of this person holding this media as another post (of this kind of evidence, if given)."""
    rows = ws.conn.execute(
        "SELECT s.id, s.status, sm.score, sm.reasons, sm.track_id, sm.span_start_s, sm.span_end_s"
        " FROM sighting_media sm JOIN sighting s ON s.id = sm.sighting_id WHERE s.person_id = ? AND sm.media_sha256 = ?"
        f" AND (CAST(? AS TEXT) IS NULL OR {_has_reason(ws, 'sm.reasons', '?')}) ORDER BY s.id",
        (person_id, media, kind, kind)).fetchall()
    return [Existing(*r, primary=False) for r in rows]


def find_footage_sighting(ws: "Workspace", cand: Candidate, exclude: int | None = None) -> Existing | None:
    """The sighting of this person at the same place in another post of the same footage (a face
    candidate only joins one with face evidence): a decided one first, else the oldest."""
    from svidok.matching.footage import aligned_media

    kind = "face" if cand.kind == "face" else None
    found: list[Existing] = []
    for other in aligned_media(ws, cand.media_sha256, cand.span_start_s, cand.span_end_s):
        rows = ws.conn.execute(
            _SELECT + " WHERE s.person_id = ? AND s.media_sha256 = ? AND (CAST(? AS TEXT) IS NULL OR"
            f" {_has_reason(ws, 's.reasons', '?')})",
            (cand.person_id, other.media_sha256, kind, kind)).fetchall()
        for e in [*(Existing(*r) for r in rows), *_attached(ws, cand.person_id, other.media_sha256, kind)]:
            if e.id != exclude and e.status != "withdrawn" and \
                    _overlap(e.start, e.end, other.start_s, other.end_s) is not None:
                found.append(replace(e, via=other.media_sha256))
    return min(found, key=lambda e: (e.status == "pending", e.id)) if found else None


def _duplicate(ws: "Workspace", own: Existing, footage: Existing) -> bool:
    """Own is a pending sighting raised on this media that nobody decided on, and the footage's
    sighting is older or already decided: own is a duplicate of it."""
    if not own.primary or own.status != "pending" or own.id == footage.id:
        return False
    if ws.conn.execute("SELECT 1 FROM decision WHERE sighting_id = ?", (own.id,)).fetchone():
        return False
    return footage.id < own.id or footage.status != "pending"


def _withdraw_duplicate(ws: "Workspace", own: Existing, host: int, now: str) -> None:
    """The duplicate is withdrawn; the other posts it held move to the footage's sighting."""
    ws.conn.execute("UPDATE sighting SET status = 'withdrawn', evidence_note = ?, updated_at = ? WHERE id = ?",
                    (f"same footage as sighting {host}; every post is listed there", now, own.id))
    ws.conn.execute("INSERT INTO sighting_media (sighting_id, media_sha256, via_sha256, track_id,"
                    " span_start_s, span_end_s, score, reasons, reference_ids, attached_at, updated_at)"
                    " SELECT ?, media_sha256, via_sha256, track_id, span_start_s, span_end_s, score, reasons,"
                    " reference_ids, attached_at, ? FROM sighting_media WHERE sighting_id = ? ON CONFLICT DO NOTHING",
                    (host, now, own.id))
    ws.conn.execute("DELETE FROM sighting_media WHERE sighting_id = ?", (own.id,))


def _attach(ws: "Workspace", cand: Candidate, host: Existing, now: str, actor: str) -> int:
    """Attach the candidate's media to the footage's sighting (1 when it was not attached before)."""
    score, reasons, refs, _ = _values(cand)
    cursor = ws.conn.execute(
        "INSERT INTO sighting_media (sighting_id, media_sha256, via_sha256, track_id, span_start_s, span_end_s, score,"
        " reasons, reference_ids, attached_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(sighting_id, media_sha256) DO NOTHING",
        (host.id, cand.media_sha256, host.via, cand.track_id, cand.span_start_s, cand.span_end_s, score, reasons,
         refs, now, now))
    if not cursor.rowcount:
        return 0
    held = ws.conn.execute("SELECT reference_ids FROM sighting WHERE id = ?", (host.id,)).scalar_one()
    merged = sorted(set(json.loads(held or "[]")) | set(cand.reference_ids))
    ws.conn.execute("UPDATE sighting SET reference_ids = ? WHERE id = ?",   # revocation must find every sighting
                    (json.dumps(merged), host.id))                         # resting on its references
    ws.audit.append(actor, "sighting.attach", f"sighting:{host.id}",
                    {"media_sha256": cand.media_sha256, "via_sha256": host.via, "status": host.status,
                     "score": cand.score, "span": [cand.span_start_s, cand.span_end_s]})
    return 1


def _refresh_attached(ws: "Workspace", cand: Candidate, own: Existing, now: str) -> None:
    """New evidence for a media a pending sighting holds as another post."""
    if own.status != "pending":
        return
    score, reasons, refs, _ = _values(cand)
    ws.conn.execute(
        "UPDATE sighting_media SET score = ?, reasons = ?, reference_ids = ?, track_id = ?, span_start_s = ?,"
        " span_end_s = ?, updated_at = ? WHERE sighting_id = ? AND media_sha256 = ? AND (score != ? OR reasons != ?)",
        (score, reasons, refs, cand.track_id, cand.span_start_s, cand.span_end_s, now, own.id, cand.media_sha256,
         score, reasons))


def _has_reason(ws: "Workspace", reasons: str, kind: str) -> str:
    """SQL: the JSON list of reasons `reasons` holds one of kind `kind` (an SQL literal or `?`)."""
    return (f"EXISTS (SELECT 1 FROM {ws.db.json_values(reasons)}"
            f" WHERE {ws.db.json_field('value', 'kind')} = {kind})")


def _overlap(start: float | None, end: float | None, other_start: float | None,
             other_end: float | None) -> float | None:
    """How much two stretches overlap (negative within the slack); None when they are apart.
    An unknown stretch covers the whole media."""
    if start is None or other_start is None:
        return 0.0
    end = start if end is None else end
    other_end = other_start if other_end is None else other_end
    amount = min(end, other_end) - max(start, other_start)
    return amount if amount >= -SPAN_SLACK_S else None


def _values(cand: Candidate) -> tuple:
    return (cand.score, json.dumps(cand.reasons, ensure_ascii=False), json.dumps(cand.reference_ids),
            json.dumps(cand.model_versions, sort_keys=True))


def _insert(ws: "Workspace", cand: Candidate, now: str) -> int:
    return int(ws.conn.execute(
        "INSERT INTO sighting (person_id, media_sha256, item_id, track_id, span_start_s, span_end_s, key,"
        " score, reasons, reference_ids, model_versions, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
        (cand.person_id, cand.media_sha256, cand.item_id or _item_of(ws, cand.media_sha256), cand.track_id,
         cand.span_start_s, cand.span_end_s, _free_key(ws, cand.key), *_values(cand), now, now)).scalar_one())


def _free_key(ws: "Workspace", key: str) -> str:
    """The key, or key#2, #3 ... when a sighting whose span has since moved still holds it."""
    taken = {r[0] for r in ws.conn.execute("SELECT key FROM sighting WHERE key = ? OR substr(key, 1, ?) = ?",
                                           (key, len(key) + 1, key + "#"))}
    n = 1
    while (candidate := key if n == 1 else f"{key}#{n}") in taken:
        n += 1
    return candidate


def _refresh(ws: "Workspace", cand: Candidate, found: Existing, now: str) -> bool:
    """Refresh a pending sighting (or reopen a withdrawn one); False when there was nothing to do."""
    values = _values(cand)
    if found.status not in REFRESHABLE:
        return False
    if found.status == "pending" and (found.score, found.reasons, found.track_id) == (*values[:2], cand.track_id):
        return False
    ws.conn.execute(
        "UPDATE sighting SET score = ?, reasons = ?, reference_ids = ?, model_versions = ?, track_id = ?,"
        " span_start_s = ?, span_end_s = ?, item_id = COALESCE(item_id, ?), status = 'pending',"
        " evidence_note = NULL, updated_at = ? WHERE id = ?",
        (*values, cand.track_id, cand.span_start_s, cand.span_end_s, cand.item_id, now, found.id))
    return True


def _item_of(ws: "Workspace", media_sha256: str) -> int | None:
    row = ws.conn.execute("SELECT item_id FROM item_media WHERE media_sha256 = ? ORDER BY item_id LIMIT 1",
                          (media_sha256,)).fetchone()
    return row[0] if row else None


def _supersede_name_only(ws: "Workspace", cand: Candidate, sighting_id: int, now: str) -> None:
    """A pending name-only sighting whose mention now sits in a face sighting is withdrawn."""
    if cand.kind == "face" and any(r["kind"] == "name" for r in cand.reasons):
        ws.conn.execute("UPDATE sighting SET status = 'withdrawn', evidence_note = ?, updated_at = ?"
                        " WHERE key = ? AND status = 'pending'",
                        (f"merged into the face sighting {sighting_id}", now,
                         f"p{cand.person_id}:m{cand.media_sha256}:names"))
