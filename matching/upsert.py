"""Writing candidates into the sighting queue: which sighting a candidate is.

A sighting is identified by what it is about, never by a row that re-analysis replaces:
- a name candidate: the person x the media (its key, `p<person>:m<sha256>:names`);
- a face candidate: the person x the media x where — in a video the stretch of time its
  track covers, in a photo the whole photo. An existing face sighting of the same person and
  media is the same sighting when the two stretches overlap (within `SPAN_SLACK_S`, since
  re-analysis may sample other frames); a stretch that is unknown (a photo, or an old row
  whose track is gone) covers the whole media.

`upsert` then, for each candidate, best first:
1. finds its sighting; one that an earlier (better) candidate of this run already took is the
   same appearance seen twice (two tracks over one stretch), so the candidate adds nothing;
2. inserts a new `pending` sighting, or refreshes a pending one (score, reasons and the
   evidence pointers: track, span), or reopens a withdrawn one; decided sightings (confirmed,
   rejected, conflict) and their decisions are left as they are;
3. withdraws pending name-only sightings whose mention joined a face sighting, and audits the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    """A sighting already in the queue, with where it is in its media."""

    id: int
    status: str
    score: float
    reasons: str
    track_id: int | None
    start: float | None
    end: float | None


def upsert(ws: "Workspace", candidates: list[Candidate], actor: str, persons: list["Person"]) -> tuple[int, int]:
    """Write candidates (best first) into the queue; returns (new or reopened, refreshed)."""
    now, new, updated = utc_now(), 0, 0
    taken: set[int] = set()
    with ws.conn:
        ws.conn.execute("BEGIN IMMEDIATE")
        for cand in candidates:
            found = find_sighting(ws, cand, taken)                                      # 1
            if found is not None and found.id in taken:
                continue
            if found is None:                                                           # 2
                sighting_id = _insert(ws, cand, now)
                new += 1
            else:
                sighting_id = found.id
                if _refresh(ws, cand, found, now):
                    new += found.status == "withdrawn"
                    updated += found.status == "pending"
            taken.add(sighting_id)
            _supersede_name_only(ws, cand, sighting_id, now)                            # 3
        ws.audit.append(actor, "match.run", "", {"persons": [p.id for p in persons], "new_sightings": new,
                                                 "updated": updated, "candidates": len(candidates)})
    return new, updated


def find_sighting(ws: "Workspace", cand: Candidate, taken: set[int] = frozenset()) -> Existing | None:
    """The sighting this candidate is about: an untaken one if any, else a taken one, else None."""
    if cand.kind == "name":
        rows = ws.conn.execute(_SELECT + " WHERE s.key = ?", (cand.key,)).fetchall()
        return Existing(*rows[0]) if rows else None
    rows = ws.conn.execute(
        _SELECT + " WHERE s.person_id = ? AND s.media_sha256 = ? AND EXISTS (SELECT 1 FROM json_each(s.reasons)"
        " WHERE json_extract(value, '$.kind') = 'face') ORDER BY s.id", (cand.person_id, cand.media_sha256))
    same = [e for e in (Existing(*r) for r in rows) if _overlap(e.start, e.end, cand) is not None]
    if not same:
        return None
    free = [e for e in same if e.id not in taken]
    return max(free or same, key=lambda e: _overlap(e.start, e.end, cand))


_SELECT = ("SELECT s.id, s.status, s.score, s.reasons, s.track_id, COALESCE(s.span_start_s, t.start_s),"
           " COALESCE(s.span_end_s, t.end_s, t.start_s) FROM sighting s LEFT JOIN track t ON t.id = s.track_id")


def _overlap(start: float | None, end: float | None, cand: Candidate) -> float | None:
    """How much two stretches overlap (negative within the slack); None when they are apart.
    An unknown stretch covers the whole media."""
    if start is None or cand.span_start_s is None:
        return 0.0
    end = start if end is None else end
    cand_end = cand.span_start_s if cand.span_end_s is None else cand.span_end_s
    amount = min(end, cand_end) - max(start, cand.span_start_s)
    return amount if amount >= -SPAN_SLACK_S else None


def _values(cand: Candidate) -> tuple:
    return (cand.score, json.dumps(cand.reasons, ensure_ascii=False), json.dumps(cand.reference_ids),
            json.dumps(cand.model_versions, sort_keys=True))


def _insert(ws: "Workspace", cand: Candidate, now: str) -> int:
    return int(ws.conn.execute(
        "INSERT INTO sighting (person_id, media_sha256, item_id, track_id, span_start_s, span_end_s, key,"
        " score, reasons, reference_ids, model_versions, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        (cand.person_id, cand.media_sha256, cand.item_id or _item_of(ws, cand.media_sha256), cand.track_id,
         cand.span_start_s, cand.span_end_s, _free_key(ws, cand.key), *_values(cand), now, now)).lastrowid)


def _free_key(ws: "Workspace", key: str) -> str:
    """The key, or key#2, #3 ... when a sighting whose span has since moved still holds it."""
    taken = {r[0] for r in ws.conn.execute("SELECT key FROM sighting WHERE key = ? OR key GLOB ?",
                                           (key, key + "#*"))}          # keys hold no glob characters
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
