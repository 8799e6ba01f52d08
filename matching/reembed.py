"""Re-embedding: references and archived faces embedded again by the active face model.

    reference rows of other models ──stored box on the reference photo──▶ rows of the active model
    face rows of other models ──stored box on the stored pixels──▶ rows of the active model

After `analyze.face_model` changes, the rows of the old model lie in another embedding space
and `svidok match` no longer compares them (`analyzers.face_spaces`). `run_reembed` gives each
of them a twin in the active space, without detecting again: every model uses the same
detector, so a stored box is as good as a new one. The pixels come from
1. a photo: the archived media file itself (exactly what analysis saw);
2. a video face: the stored frame (`face.frame_sha256`: the sampled frame, JPEG quality 90);
3. otherwise the stored crop (the box grown by 30 %), the box moved into it.
Landmarks are found again on those pixels and the active model embeds the face
(`analyzers.faces.embed_boxes`); the twin copies the box, time, quality, crop, frame and track
(a track then holds the faces of both models; the matcher reads only the active model's) and
records `reembedded_from` in its params. References are embedded with the enrollment options
(`match.reference_jitter`) and audited one by one.

Resumable: a row counts as done when the active space has a row at the same place (face: media,
time, box; reference: consent, photo, box), and each media file's twins are written in one short
transaction after its faces were computed, so a crash or Ctrl-C loses at most the file in hand
and a rerun continues there; nothing is created twice.

Old-model rows are kept: sightings already reviewed point at them as evidence, and they cost
little. Matching ignores them (it compares the active model's rows only). Re-detection (`svidok
analyze --reanalyze`) is needed instead only when the detection settings changed, or when no
readable pixels of a face are left (the file is then reported in `failed` and skipped).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from svidok.analyzers.base import AnalysisError
from svidok.analyzers.face_spaces import FaceSpace, active_space
from svidok.foundation.clock import utc_now

if TYPE_CHECKING:
    from svidok.analyzers.faces import DetectedFace, FaceOptions
    from svidok.foundation.workspace import Workspace

ESTIMATE_AFTER_S = 10.0        # the estimate is made once this much work (or ESTIMATE_AFTER_FILES) is done
ESTIMATE_AFTER_FILES = 5


@dataclass(frozen=True)
class OldFace:
    """A face row of another model, as far as re-embedding needs it."""

    id: int
    media_sha256: str
    time_s: float | None
    box: str                             # JSON as stored (compared as text to find its twin)
    quality: str
    crop_sha256: str | None
    frame_sha256: str | None
    track_id: int | None
    params: str


@dataclass(frozen=True)
class OldReference:
    id: int
    person_id: int
    consent_id: int
    photo_sha256: str
    photo_path: str
    photo_date: str | None
    box: str
    quality: str


@dataclass(frozen=True)
class ReembedPlan:
    """What is left to re-embed into `space`."""

    space: FaceSpace
    references: list[OldReference]
    faces: dict[str, list[OldFace]]      # media -> its faces, in media order

    @property
    def face_count(self) -> int:
        return sum(len(v) for v in self.faces.values())


@dataclass
class ReembedReport:
    model: str
    references: int = 0
    faces: int = 0
    media: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    estimated_s: float | None = None     # the whole run, as estimated from its first files
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "references": self.references, "faces": self.faces, "media": self.media,
                "failed": self.failed, "estimated_s": self.estimated_s, "seconds": round(self.seconds, 1)}


Progress = Callable[[str, int, int], None]      # (what, done, total) after each reference / media file


@dataclass(frozen=True)
class ReembedBacklog:
    """How many rows of other face models have no twin in the active space yet (matching ignores them)."""

    model: str                           # the active space's label
    references: int                      # of persons with an active consent
    faces: int

    @property
    def waiting(self) -> bool:
        return bool(self.references or self.faces)

    def notice(self) -> str | None:
        """One line for the command's output, or None when nothing waits."""
        if not self.waiting:
            return None
        return (f"warning: {self.references} reference photo(s) and {self.faces} archived face(s) were embedded by "
                f"another face model and are not compared under {self.model}; run `svidok analyze --reembed`")

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "references": self.references, "faces": self.faces}


def reembed_backlog(ws: "Workspace", space: FaceSpace | None = None) -> ReembedBacklog:
    """Counts of what `run_reembed` would do (rows, not distinct places: a face under two older
    models counts twice); cheap when every row is already in the active space."""
    space = space or active_space(ws.settings.analyze)
    params = (space.model, space.version)
    other_faces = ws.conn.execute("SELECT COUNT(*) FROM face WHERE NOT (model = ? AND model_version = ?)",
                                  params).fetchone()[0]
    other_refs = ws.conn.execute("SELECT COUNT(*) FROM reference WHERE NOT (model = ? AND model_version = ?)",
                                 params).fetchone()[0]
    faces = ws.conn.execute(f"SELECT COUNT(*) {_FACES_WITHOUT_TWIN}", params * 2).fetchone()[0] if other_faces else 0
    refs = ws.conn.execute(f"SELECT COUNT(*) {_REFERENCES_WITHOUT_TWIN}", params * 2).fetchone()[0] if other_refs else 0
    return ReembedBacklog(space.label, refs, faces)


def plan_reembed(ws: "Workspace", space: FaceSpace | None = None) -> ReembedPlan:
    """The references (active consent) and faces without a twin in the active (or given) space."""
    space = space or active_space(ws.settings.analyze)
    return ReembedPlan(space, _pending_references(ws, space), _pending_faces(ws, space))


def run_reembed(ws: "Workspace", actor: str = "cli", on_step: Progress | None = None,
                on_estimate: Callable[[float], None] | None = None, work: ReembedPlan | None = None) -> ReembedReport:
    """Re-embed every reference and face of another model with the active one (module doc);
    `work`: the plan, when the caller made it just before."""
    from svidok.matching.references import reference_face_options

    started = time.perf_counter()
    work = work or plan_reembed(ws)
    report = ReembedReport(work.space.label)
    total = len(work.references) + work.face_count
    done = 0

    def step(what: str, amount: int) -> None:
        nonlocal done
        done += amount
        if on_step:
            on_step(what, done, total)
        spent = time.perf_counter() - started
        files = report.references + report.media + len(report.failed)
        if report.estimated_s is None and done < total and (spent >= ESTIMATE_AFTER_S or files >= ESTIMATE_AFTER_FILES):
            report.estimated_s = round(spent / done * total, 1)
            if on_estimate:
                on_estimate(report.estimated_s)

    ref_options = reference_face_options(ws)
    for ref in work.references:                                                       # references first:
        try:                                                                          # matching needs them
            _reembed_reference(ws, ref, ref_options, actor)
            report.references += 1
        except (_NoPixels, AnalysisError) as exc:                                    # gone, or unreadable
            report.failed.append({"reference_id": ref.id, "error": str(exc)})
        step(f"reference {ref.id}", 1)
    archive_options = _archive_options(ws)
    for media, faces in work.faces.items():
        try:
            report.faces += _reembed_media(ws, media, faces, archive_options)
            report.media += 1
        except (_NoPixels, AnalysisError) as exc:
            report.failed.append({"media_sha256": media, "faces": len(faces), "error": str(exc)})
        step(f"media {media[:12]}", len(faces))
    report.seconds = time.perf_counter() - started
    if report.references or report.faces:
        ws.audit.append(actor, "faces.reembed", f"model:{work.space.model}",
                        {"model": work.space.label, "references": report.references, "faces": report.faces,
                         "media": report.media, "failed": len(report.failed)})
    return report


class _NoPixels(Exception):
    """None of the files a face or reference could be embedded from is there."""


def _archive_options(ws: "Workspace") -> "FaceOptions":
    from svidok.analyzers.faces import FaceOptions

    return FaceOptions.from_settings(ws.settings.analyze)


# rows of another space without a twin in the space (model, version, then again model, version)
_FACES_WITHOUT_TWIN = (
    "FROM face f WHERE NOT (f.model = ? AND f.model_version = ?) AND NOT EXISTS (SELECT 1 FROM face g"
    " WHERE g.model = ? AND g.model_version = ? AND g.media_sha256 = f.media_sha256 AND g.box = f.box"
    " AND (g.time_s = f.time_s OR (g.time_s IS NULL AND f.time_s IS NULL)))")
_REFERENCES_WITHOUT_TWIN = (
    "FROM reference r JOIN consent c ON c.id = r.consent_id AND c.revoked_at IS NULL"
    " WHERE NOT (r.model = ? AND r.model_version = ?) AND NOT EXISTS (SELECT 1 FROM reference o"
    " WHERE o.model = ? AND o.model_version = ? AND o.consent_id = r.consent_id"
    " AND o.photo_sha256 = r.photo_sha256 AND o.box = r.box)")


def _pending_faces(ws: "Workspace", space: FaceSpace) -> dict[str, list[OldFace]]:
    rows = ws.conn.execute(
        "SELECT f.id, f.media_sha256, f.time_s, f.box, f.quality, f.crop_sha256, f.frame_sha256, f.track_id, f.params"
        f" {_FACES_WITHOUT_TWIN} ORDER BY f.media_sha256, f.id", (space.model, space.version, space.model, space.version))
    out: dict[str, list[OldFace]] = {}
    seen: set[tuple[str, float | None, str]] = set()
    for row in rows:
        face = OldFace(*row)
        key = (face.media_sha256, face.time_s, face.box)
        if key not in seen:                  # the same face under two older models: one twin
            seen.add(key)
            out.setdefault(face.media_sha256, []).append(face)
    return out


def _pending_references(ws: "Workspace", space: FaceSpace) -> list[OldReference]:
    rows = ws.conn.execute(
        "SELECT r.id, r.person_id, r.consent_id, r.photo_sha256, r.photo_path, r.photo_date, r.box, r.quality"
        f" {_REFERENCES_WITHOUT_TWIN} ORDER BY r.id", (space.model, space.version, space.model, space.version))
    out, seen = [], set()
    for row in rows:
        ref = OldReference(*row)
        if (ref.consent_id, ref.photo_sha256, ref.box) not in seen:
            seen.add((ref.consent_id, ref.photo_sha256, ref.box))
            out.append(ref)
    return out


def _reembed_reference(ws: "Workspace", ref: OldReference, options: "FaceOptions", actor: str) -> int:
    from svidok.analyzers.faces import embed_boxes

    path = ws.path(ref.photo_path)
    if not path.is_file():
        raise _NoPixels(f"reference photo {ref.photo_path} is missing")
    face = embed_boxes(_image(ws, path), [tuple(json.loads(ref.box))], options)[0]           # computed first,
    with ws.transaction():                                                                  # then written
        new_id = ws.db.insert("reference", {
            "person_id": ref.person_id, "consent_id": ref.consent_id, "photo_sha256": ref.photo_sha256,
            "photo_path": ref.photo_path, "photo_date": ref.photo_date, "box": ref.box, "quality": ref.quality,
            "embedding": _blob(face), "model": face.model, "model_version": face.model_version,
            "created_at": utc_now()})
        ws.audit.append(actor, "reference.reembed", f"reference:{new_id}",
                        {"person_id": ref.person_id, "consent_id": ref.consent_id, "from_reference": ref.id,
                         "model": f"{face.model} {face.model_version}"})
    return new_id


def _reembed_media(ws: "Workspace", media: str, faces: list[OldFace], options: "FaceOptions") -> int:
    """Every listed face of one media file, computed, then written in one transaction."""
    from svidok.analyzers.faces import embed_boxes

    twins: list[tuple[OldFace, DetectedFace]] = []
    for path, shift, group in _by_source(ws, media, faces):
        boxes = [_shifted(json.loads(face.box), shift) for face in group]
        twins.extend(zip(group, embed_boxes(_image(ws, path), boxes, options)))
    with ws.transaction():
        for old, new in twins:
            ws.db.insert("face", {
                "media_sha256": old.media_sha256, "time_s": old.time_s, "box": old.box, "quality": old.quality,
                "embedding": _blob(new), "crop_sha256": old.crop_sha256, "frame_sha256": old.frame_sha256,
                "track_id": old.track_id, "model": new.model, "model_version": new.model_version,
                "params": _params(old.params, old.id, options.model)})
    return len(twins)


def _by_source(ws: "Workspace", media: str, faces: list[OldFace]) -> list[tuple[Path, tuple[int, int], list[OldFace]]]:
    """The faces grouped by the picture they are embedded from, with the boxes' shift into it."""
    groups: dict[tuple[str, Any], tuple[Path, tuple[int, int], list[OldFace]]] = {}
    for face in faces:
        key, path, shift = _source(ws, media, face)
        groups.setdefault(key, (path, shift, []))[2].append(face)
    return list(groups.values())


def _source(ws: "Workspace", media: str, face: OldFace) -> tuple[tuple[str, Any], Path, tuple[int, int]]:
    """Where a face's pixels come from (module doc, 1-3): a key, the file and the box's shift."""
    if face.time_s is None and (path := _stored(ws, "media", media)) is not None:
        return ("media", media), path, (0, 0)
    if face.frame_sha256 and (path := _stored(ws, "artifact", face.frame_sha256)) is not None:
        return ("frame", face.frame_sha256), path, (0, 0)
    if face.crop_sha256 and (path := _stored(ws, "artifact", face.crop_sha256)) is not None:
        return ("crop", face.id), path, _crop_origin(json.loads(face.box))
    raise _NoPixels(f"face {face.id}: neither the media file nor its stored frame or crop is there; "
                    "re-analyze the file (svidok analyze --reanalyze)")


def _stored(ws: "Workspace", table: str, sha256: str) -> Path | None:
    row = ws.conn.execute(f"SELECT path FROM {table} WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None or not row[0]:
        return None
    path = ws.path(row[0])
    return path if path.is_file() else None


def _image(ws: "Workspace", path: Path) -> np.ndarray:
    from svidok.analyzers.faces import load_image

    return load_image(path, ws.settings.analyze.max_pixels)


def _crop_origin(box: list[int]) -> tuple[int, int]:
    """(top, left) of the crop `face_analyzer.crop` cut around this box, in the picture's pixels."""
    from svidok.analyzers.face_analyzer import CROP_MARGIN

    top, right, bottom, left = box
    return max(0, top - round((bottom - top) * CROP_MARGIN)), max(0, left - round((right - left) * CROP_MARGIN))


def _shifted(box: list[int], origin: tuple[int, int]) -> tuple[int, int, int, int]:
    top, right, bottom, left = box
    return top - origin[0], right - origin[1], bottom - origin[0], left - origin[1]


def _params(old: str, old_id: int, face_model: str) -> str:
    """The old row's analysis parameters, with the model that embedded the twin and where it came from."""
    try:
        params = json.loads(old) if old else {}
    except ValueError:
        params = {}
    if isinstance(params.get("faces"), dict):
        params["faces"] = {**params["faces"], "model": face_model}
    params["reembedded_from"] = old_id
    return json.dumps(params, sort_keys=True)


def _blob(face: "DetectedFace") -> bytes:
    if face.embedding is None:                 # embed_boxes embeds every box it is given
        raise ValueError("no embedding")
    return face.embedding.astype(np.float32).tobytes()
