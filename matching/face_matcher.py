"""Faces: every archived face track against every consented reference, within one face model.

0. the active face model (`analyze.face_model`) names the embedding space searched: only
   references and archived faces that this model (at this version) embedded are compared;
   rows of other models wait for `svidok analyze --reembed` (`analyzers.face_spaces`);
1. the references of the searched persons (active consent only) form a small matrix;
2. the archive index of the space (`vector_index`) is scanned in blocks: a face whose distance
   to some person's nearest reference is within the threshold makes its track a candidate;
3. each candidate track is scored from all its faces: per face, the distance to the
   person's nearest reference, plus a gallery penalty when another enrolled person is about
   as close (`match.face_gallery_margin`: the face is then ambiguous, not evidence); the
   track distance is the mean of the best and the median face distance;
4. the track is a candidate when that distance is within the threshold; its score is
   `face_score(distance)`, a logistic curve readable by reviewers: 0.5 at the threshold, 0.9 at
   the model's strict threshold (where about 1 % of distractor photos raise a candidate), as
   symmetric above. Higher = more likely the same person. The face reason names the model.

Thresholds are per model and follow the register's size (`analyzers.model_thresholds`,
calibrated on dev data by `benchmarks/calibrate_thresholds.py`: the distance at which <= 5 % of
distractor photos raise a candidate for anyone in a gallery of that many persons). Every enrolled
person is one more chance for a stranger to come close, so the threshold tightens as persons are
enrolled: it is read for the number of persons with a reference of the space and an active
consent (`enrolled_persons`), the whole register, not just the persons one run searches for, so
a sighting does not depend on who else was matched in the same run. `match.face_threshold` > 0
overrides the active model's. Distances are Euclidean between the stored vectors (dlib's raw
128-d ones; the plug-ins' unit vectors, sqrt(2 - 2 cos)). The gallery margin is one setting for
every model: near the thresholds the models' distance scales are alike (calibrated for 60
persons, from 5 % to 1 % of distractors: dlib 0.515 → 0.472, the fusion 1.117 → 1.061).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from svidok.analyzers.face_spaces import FaceSpace, active_space
from svidok.analyzers.model_thresholds import ThresholdsMissing, thresholds_for
from svidok.matching.base import Candidate, Matcher
from svidok.matching.references import load_references
from svidok.matching.vector_index import FaceIndex, load_face_index

if TYPE_CHECKING:
    from svidok.foundation.settings import MatchSettings
    from svidok.foundation.workspace import Workspace
    from svidok.matching.persons import Person

CURVE_WIDTH = 0.10 / math.log(9)          # a model without calibration: 0.9 at threshold − 0.10
SQL_BATCH = 500
SCAN_CELLS = 32 * 1024 * 1024                 # distances held at once while scanning (128 MiB)
PER_REFERENCE_SEARCH = 16     # a gallery of at most this many references (one person's retroactive search)
                              # is searched reference by reference through the index's int8 copy, when used


def face_score(distance: float, threshold: float, width: float = CURVE_WIDTH) -> float:
    """Map a (normalised) face distance to 0-1; 0.5 exactly at the threshold."""
    return round(1.0 / (1.0 + math.exp((distance - threshold) / width)), 4)


@dataclass(frozen=True)
class FaceThreshold:
    """The threshold and score curve in force for one embedding space and register size."""

    space: FaceSpace
    threshold: float
    curve_width: float
    source: str                # "calibrated" | "match.face_threshold"
    enrolled: int              # persons with a reference of the space (the gallery size it was read for)


def face_threshold(settings: "MatchSettings", space: FaceSpace, enrolled: int) -> FaceThreshold:
    """The space's model's threshold calibrated for a gallery of `enrolled` persons, or
    `match.face_threshold` when set (> 0)."""
    try:
        calibrated = thresholds_for(space.model, enrolled)
    except ThresholdsMissing:
        if settings.face_threshold <= 0:
            raise
        return FaceThreshold(space, settings.face_threshold, CURVE_WIDTH, "match.face_threshold", enrolled)
    if settings.face_threshold > 0:
        return FaceThreshold(space, settings.face_threshold, calibrated.curve_width, "match.face_threshold", enrolled)
    return FaceThreshold(space, calibrated.threshold, calibrated.curve_width, "calibrated", enrolled)


def enrolled_persons(ws: "Workspace", space: FaceSpace) -> int:
    """Persons with at least one reference of the space whose consent is active (the gallery
    `matching.references.load_references` can search)."""
    in_space, args = space.where("reference")
    row = ws.conn.execute(
        "SELECT COUNT(DISTINCT reference.person_id) FROM reference"
        " JOIN consent ON consent.id = reference.consent_id AND consent.revoked_at IS NULL"
        f" WHERE {in_space}", args).fetchone()
    return int(row[0])


def active_face_threshold(ws: "Workspace") -> FaceThreshold:
    """The threshold `svidok match` uses now (the active face model's, for the register's size)."""
    space = active_space(ws.settings.analyze)
    return face_threshold(ws.settings.match, space, enrolled_persons(ws, space))


@dataclass
class Gallery:
    """The references being searched for, grouped by person (rows sorted by person)."""

    vectors: np.ndarray        # (n_ref, dimension of the space's model) float32
    ref_ids: np.ndarray        # (n_ref,)
    person_ids: np.ndarray     # (n_person,) distinct, in row order
    starts: np.ndarray         # first row of each person

    @classmethod
    def load(cls, ws: "Workspace", person_ids: Sequence[int], space: FaceSpace) -> "Gallery | None":
        refs = load_references(ws, person_ids, space)
        if not refs:
            return None
        vectors = np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in refs])
        owners = np.array([r.person_id for r in refs])
        persons, starts = np.unique(owners, return_index=True)
        return cls(vectors, np.array([r.id for r in refs]), persons, starts)

    def person_distances(self, faces: np.ndarray, with_rows: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(n_person, m) distance of each face to each person's nearest reference, and which row."""
        d2 = self.vectors @ faces.T
        d2 *= -2.0
        d2 += (faces * faces).sum(1)[None, :]
        d2 += (self.vectors * self.vectors).sum(1)[:, None]
        dist = np.sqrt(np.maximum(d2, 0.0, out=d2), out=d2)
        per_person = np.minimum.reduceat(dist, self.starts, axis=0)
        if not with_rows:
            return per_person, None
        ends = np.append(self.starts[1:], len(self.vectors))
        which = np.stack([s + dist[s:e].argmin(0) for s, e in zip(self.starts, ends)])
        return per_person, which


def normalised(per_person: np.ndarray, margin: float) -> np.ndarray:
    """Add the gallery penalty: max(0, margin − (distance to the nearest other person − own))."""
    if len(per_person) < 2:
        return per_person
    order = np.sort(per_person, axis=0)
    nearest, second = order[0], order[1]
    other = np.where(per_person == nearest[None, :], second[None, :], nearest[None, :])
    return per_person + np.maximum(0.0, margin - (other - per_person))


class FaceMatcher(Matcher):
    """Archived face tracks × consented references."""

    name = "faces"
    version = "1"

    def __init__(self, settings: "MatchSettings") -> None:
        self.settings = settings

    def propose(self, workspace: "Workspace", persons: Sequence["Person"]) -> Iterator[Candidate]:
        space = active_space(workspace.settings.analyze)                              # 0
        gallery = Gallery.load(workspace, [p.id for p in persons], space)             # 1
        if gallery is None:
            return
        index = load_face_index(workspace, space)
        if not len(index):
            return
        limit = face_threshold(self.settings, space, enrolled_persons(workspace, space))
        hits = self._scan(index, gallery, limit.threshold)                            # 2
        for (person_row, group), face_ids in _group_by_track(workspace, hits).items():
            candidate = self._score_track(workspace, index, gallery, limit, person_row, group, face_ids)  # 3
            if candidate is not None:                                                 # 4
                yield candidate

    def _scan(self, index: FaceIndex, gallery: Gallery, threshold: float) -> list[tuple[int, int]]:
        """(person row, face id) pairs whose raw distance is within the threshold.

        A small gallery (a newly enrolled person) in a process that scans the int8 copy (a worker,
        the review UI) asks the index per reference (`FaceIndex.within`: a quarter of the bytes
        read, exact); otherwise the float32 matrix is read once for the whole gallery, in blocks."""
        if index.vectors.shape[1] != gallery.vectors.shape[1]:
            raise ValueError("references and faces of one face model have embeddings of different lengths")
        if index.uses_quantized and len(gallery.vectors) <= PER_REFERENCE_SEARCH:
            owner = np.searchsorted(gallery.starts, np.arange(len(gallery.vectors)), side="right") - 1
            found = {(int(owner[row]), int(face_id)) for row, vector in enumerate(gallery.vectors)
                     for face_id in index.within(vector, threshold)[0]}
            return sorted(found, key=lambda hit: (hit[1], hit[0]))
        hits: list[tuple[int, int]] = []
        rows = max(4096, SCAN_CELLS // len(gallery.vectors))       # bounds the (refs x faces) block
        for start, block, _ in index.chunks(rows):
            per_person, _ = gallery.person_distances(block, with_rows=False)
            rows, cols = np.nonzero(per_person <= threshold)
            hits.extend(zip(rows.tolist(), index.ids[start + cols].tolist()))
        return hits

    def _score_track(self, ws: "Workspace", index: FaceIndex, gallery: Gallery, limit: FaceThreshold,
                     person_row: int, group: tuple[str, str, int | None], face_ids: list[int]) -> Candidate | None:
        media, track_id, _ = group
        members = _track_faces(ws, track_id, limit.space) if track_id is not None else face_ids
        vectors = np.asarray(index.vectors[index.rows_of(np.array(members))], dtype=np.float32)
        per_person, which = gallery.person_distances(vectors)
        dist = normalised(per_person, self.settings.face_gallery_margin)[person_row]
        raw = per_person[person_row]
        best_i = int(dist.argmin())
        distance = float((dist[best_i] + np.median(dist)) / 2)
        if distance > limit.threshold:
            return None
        reference_ids = sorted({int(gallery.ref_ids[w]) for w in which[person_row]})
        person_id = int(gallery.person_ids[person_row])
        reason = {"kind": "face", "model": limit.space.label, "threshold": limit.threshold, "enrolled": limit.enrolled,
                  "distance": round(distance, 4), "raw_distance": round(float(raw[best_i]), 4),
                  "median_distance": round(float(np.median(dist)), 4),
                  "score": face_score(distance, limit.threshold, limit.curve_width),
                  "frames": len(members), "face_id": int(members[best_i]), "track_id": track_id,
                  "reference_id": int(gallery.ref_ids[which[person_row][best_i]])}
        start, end = _span(ws, track_id, members[best_i])
        return Candidate(person_id, media, face_key(person_id, media, start, end), reason["score"], [reason],
                         _versions(ws, members[best_i]), reference_ids, track_id=track_id, span_start_s=start,
                         span_end_s=end)


def face_key(person_id: int, media: str, start: float | None, end: float | None) -> str:
    """Person x media x where: a stretch of a video, or the whole photo; never a row id, since
    re-analysis replaces the face and track rows (`matching.upsert` finds the same sighting by place)."""
    where = "photo" if start is None else f"{start:.2f}-{end if end is not None else start:.2f}s"
    return f"p{person_id}:m{media}:face:{where}"


def _span(ws: "Workspace", track_id: int | None, face_id: int) -> tuple[float | None, float | None]:
    """When in the media the face (track) is seen: (None, None) for a photo."""
    if track_id is not None:
        row = ws.conn.execute("SELECT start_s, end_s FROM track WHERE id = ?", (track_id,)).fetchone()
    else:
        row = ws.conn.execute("SELECT time_s, time_s FROM face WHERE id = ?", (face_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _group_by_track(ws: "Workspace", hits: list[tuple[int, int]]) -> dict[tuple, list[int]]:
    """Hits grouped by (person row, (media, track id, lone face id)); faces without a track stand alone."""
    groups: dict[tuple, list[int]] = {}
    info: dict[int, tuple[str, int | None]] = {}
    face_ids = sorted({f for _, f in hits})
    for i in range(0, len(face_ids), SQL_BATCH):
        batch = face_ids[i:i + SQL_BATCH]
        rows = ws.conn.execute(f"SELECT id, media_sha256, track_id FROM face WHERE id IN ({','.join('?' * len(batch))})",
                               batch)
        info.update({r[0]: (r[1], r[2]) for r in rows})
    for person_row, face_id in hits:
        media, track = info[face_id]
        group = (media, track, None if track is not None else face_id)
        groups.setdefault((person_row, group), []).append(face_id)
    return groups


def _track_faces(ws: "Workspace", track_id: int, space: FaceSpace) -> list[int]:
    """The track's faces of one space (a re-embedded track holds the faces of both models)."""
    in_space, args = space.where()
    return [r[0] for r in ws.conn.execute(f"SELECT id FROM face WHERE track_id = ? AND {in_space} ORDER BY id",
                                          (track_id, *args))]


def _versions(ws: "Workspace", face_id: int) -> dict[str, str]:
    row = ws.conn.execute("SELECT model, model_version FROM face WHERE id = ?", (face_id,)).fetchone()
    return {"faces": f"{FaceMatcher.name} {FaceMatcher.version}", "face_model": f"{row[0]} {row[1]}"}


def ranked_search(ws: "Workspace", reference_id: int, k: int = 20) -> list[dict[str, object]]:
    """The k archived faces most like one reference, closest first (for reviewers): faces of the
    reference's own face model only."""
    row = ws.conn.execute("SELECT embedding, model, model_version FROM reference WHERE id = ?",
                          (reference_id,)).fetchone()
    if row is None:
        raise ValueError(f"no reference with id {reference_id}")
    space = FaceSpace(row[1], row[2])
    index = load_face_index(ws, space)
    if not len(index):
        return []
    ids, dist = index.nearest(np.frombuffer(row[0], dtype=np.float32), k)
    out = []
    for face_id, d in zip(ids.tolist(), dist.tolist()):
        media, time_s, box = ws.conn.execute("SELECT media_sha256, time_s, box FROM face WHERE id = ?",
                                             (face_id,)).fetchone()
        out.append({"face_id": face_id, "media_sha256": media, "time_s": time_s, "box": json.loads(box),
                    "distance": round(d, 4), "model": space.label})
    return out
