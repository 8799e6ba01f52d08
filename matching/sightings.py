"""The sighting queue: candidates from all matchers, merged and upserted for review.

`run_match` is the match stage of the flow:
1. the persons to search: those with an active identification consent (optionally a subset,
   e.g. the person just enrolled — the retroactive search over the whole archive);
2. every matcher proposes candidates (faces × references, names × transcripts/posts);
3. a name mention joins the best face candidate of the same person and media (one sighting
   with both reasons); otherwise it stays a name-only candidate; places of detention the
   media's post text or transcript names are added as supporting reasons (`matching.places`);
4. candidates are upserted in one transaction (`matching.upsert`): a candidate's sighting is
   found by what it is about (person x media x where in the media, never a track or face row
   that re-analysis replaces); new ones become `pending` sightings, pending ones are refreshed
   (score, reasons, evidence pointers), withdrawn ones (their old reference was revoked) are
   reopened, and sightings a reviewer decided are never touched; the run is audited.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from svidok.matching.base import Candidate, Matcher
from svidok.matching.persons import list_persons, searchable_person_ids, sweep_orphan_references
from svidok.matching.places import add_site_reasons
from svidok.matching.upsert import upsert

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

STATUSES = ("pending", "confirmed", "rejected", "withdrawn", "conflict")


@dataclass(frozen=True)
class MatchReport:
    new_sightings: int = 0
    updated: int = 0
    candidates: int = 0
    persons: int = 0


@dataclass(frozen=True)
class Sighting:
    id: int
    person_id: int
    media_sha256: str
    item_id: int | None
    track_id: int | None
    score: float
    status: str
    reasons: list[dict[str, Any]]
    reference_ids: list[int]
    model_versions: dict[str, str]
    evidence_note: str | None
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def default_matchers(ws: "Workspace") -> list[Matcher]:
    from svidok.matching.face_matcher import FaceMatcher
    from svidok.matching.name_matcher import NameMatcher

    return [FaceMatcher(ws.settings.match), NameMatcher(ws.settings.match)]


def run_match(ws: "Workspace", person_ids: Sequence[int] | None = None, actor: str = "cli",
              matchers: Sequence[Matcher] | None = None) -> MatchReport:
    """Search the archive for consented persons and queue new candidates (see module doc)."""
    sweep_orphan_references(ws)
    allowed = set(searchable_person_ids(ws))                                         # 1
    wanted = allowed if person_ids is None else allowed & set(person_ids)
    persons = [p for p in list_persons(ws) if p.id in wanted]
    if not persons:
        return MatchReport()
    candidates: list[Candidate] = []
    for matcher in matchers or default_matchers(ws):                                 # 2
        candidates.extend(matcher.propose(ws, persons))
    merged = merge_candidates(candidates)                                            # 3
    add_site_reasons(ws, merged)
    new, updated = upsert(ws, merged, actor, persons)                                # 4
    return MatchReport(new, updated, len(merged), len(persons))


def combine(face_score: float, name_score: float) -> float:
    """Independent evidence: 1 − (1 − face)(1 − name)."""
    return round(1.0 - (1.0 - face_score) * (1.0 - name_score), 4)


def merge_candidates(candidates: list[Candidate]) -> list[Candidate]:
    """Name candidates join the best face candidate of the same person and media."""
    faces = sorted((c for c in candidates if c.kind == "face"), key=lambda c: -c.score)
    best_face: dict[tuple[int, str], Candidate] = {}
    for face in faces:
        best_face.setdefault((face.person_id, face.media_sha256), face)
    names: dict[str, Candidate] = {}
    for cand in (c for c in candidates if c.kind == "name"):
        host = next((best_face[(cand.person_id, m)] for m in (cand.media_sha256, *cand.other_media)
                     if (cand.person_id, m) in best_face), None)
        if host is not None:
            host.reasons.extend(cand.reasons)
            host.model_versions.update(cand.model_versions)
            host.score = combine(host.score, cand.score)
            host.item_id = host.item_id or cand.item_id
        elif cand.key in names:                       # transcript and post of the same media
            other = names[cand.key]
            other.reasons.extend(cand.reasons)
            other.model_versions.update(cand.model_versions)
            other.score = max(other.score, cand.score)
        else:
            names[cand.key] = cand
    return faces + list(names.values())


def list_sightings(ws: "Workspace", status: Sequence[str] = (), person_id: int | None = None,
                   limit: int = 1000) -> list[Sighting]:
    """The queue, highest score first."""
    bad = [s for s in status if s not in STATUSES]
    if bad:
        raise ValueError(f"unknown status {', '.join(bad)}; use {', '.join(STATUSES)}")
    where, args = ["1 = 1"], []
    if status:
        where.append(f"status IN ({','.join('?' * len(status))})")
        args.extend(status)
    if person_id is not None:
        where.append("person_id = ?")
        args.append(person_id)
    rows = ws.conn.execute(
        "SELECT id, person_id, media_sha256, item_id, track_id, score, status, reasons, reference_ids,"
        f" model_versions, evidence_note, created_at FROM sighting WHERE {' AND '.join(where)}"
        " ORDER BY score DESC, id LIMIT ?", [*args, limit])
    return [Sighting(*r[:7], json.loads(r[7]), json.loads(r[8]), json.loads(r[9]), r[10], r[11]) for r in rows]
