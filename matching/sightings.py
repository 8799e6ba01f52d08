"""The sighting queue: candidates from all matchers, merged and upserted for review.

`run_match` is the match stage of the flow:
0. near-duplicate media are grouped into footage, and archived photos that are a family's
   reference photo are marked as its reposts, never that person's sightings (`matching.footage`);
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
   reopened, and sightings a reviewer decided are never touched; a candidate on another post of
   footage that already has a sighting of the person is attached to that sighting (one
   sighting per person x footage); the run is audited.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from svidok.matching.base import Candidate, Matcher
from svidok.matching.persons import list_persons, searchable_person_ids, sweep_orphan_references
from svidok.matching.places import add_site_reasons
from svidok.matching.upsert import upsert_candidates

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

STATUSES = ("pending", "confirmed", "rejected", "withdrawn", "conflict")


@dataclass(frozen=True)
class MatchReport:
    new_sightings: int = 0
    updated: int = 0
    candidates: int = 0
    persons: int = 0
    attached: int = 0             # media attached to the sighting of their footage
    reposts: int = 0              # reference photos newly found reposted in the archive


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
    other_media: list[str] = field(default_factory=list)    # the same footage posted elsewhere

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def default_matchers(ws: "Workspace") -> list[Matcher]:
    from svidok.matching.face_matcher import FaceMatcher
    from svidok.matching.name_matcher import NameMatcher

    return [FaceMatcher(ws.settings.match), NameMatcher(ws.settings.match)]


def run_match(ws: "Workspace", person_ids: Sequence[int] | None = None, actor: str = "cli",
              matchers: Sequence[Matcher] | None = None) -> MatchReport:
    """Search the archive for consented persons and queue new candidates (see module doc)."""
    from svidok.matching.footage import update_footage
    from svidok.matching.reposts import reposted_photos

    sweep_orphan_references(ws)
    footage = update_footage(ws, actor)                                              # 0
    allowed = set(searchable_person_ids(ws))                                         # 1
    wanted = allowed if person_ids is None else allowed & set(person_ids)
    persons = [p for p in list_persons(ws) if p.id in wanted]
    if not persons:
        return MatchReport()
    candidates: list[Candidate] = []
    for matcher in matchers or default_matchers(ws):                                 # 2
        candidates.extend(matcher.propose(ws, persons))
    family_photos = reposted_photos(ws)
    merged = merge_candidates([c for c in candidates if (c.media_sha256, c.person_id) not in family_photos])  # 3
    add_site_reasons(ws, merged)
    done = upsert_candidates(ws, merged, actor, persons)                             # 4
    return MatchReport(done.new, done.updated, len(merged), len(persons), done.attached, footage.reposts)


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
        f" model_versions, evidence_note, created_at, (SELECT {ws.db.string_agg('media_sha256', ',')}"
        " FROM sighting_media"
        f" WHERE sighting_id = sighting.id) FROM sighting WHERE {' AND '.join(where)}"
        " ORDER BY score DESC, id LIMIT ?", [*args, limit])
    return [Sighting(*r[:7], json.loads(r[7]), json.loads(r[8]), json.loads(r[9]), r[10], r[11],
                     sorted(r[12].split(",")) if r[12] else [])
            for r in rows]
