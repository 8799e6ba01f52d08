"""Enrolling reference photos of a missing person (given by the family, with consent).

    photo ──analyzers.faces──▶ one face ──checks──▶ references/<sha256> + reference row

References go through the same detector, landmarks and face model as archived faces
(`analyzers.faces.detect_faces` with the archive's options, so the active `analyze.face_model`
embeds them and the row records it); only the jitter is higher (`match.reference_jitter`, dlib
only), since a reference is embedded once and compared with everything. Each photo is checked: it must
hold exactly one face (or `face` picks one, numbered 1.. from left to right), the face must
be at least `match.reference_min_face` pixels and sharp enough (`match.reference_min_sharpness`).
The photo is stored in `ws.references` (never in media/) and its row is written under the
same write lock, so a crash leaves at worst an orphan file that the next sweep deletes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from svidok.foundation.clock import utc_now
from svidok.matching.persons import PersonError, active_consent, check_date, get_person, sweep_orphan_references

if TYPE_CHECKING:
    from svidok.analyzers.face_spaces import FaceSpace
    from svidok.analyzers.faces import DetectedFace
    from svidok.foundation.workspace import Workspace


MIN_DETECTION_CONFIDENCE = 0.4     # dlib HOG score; below it a second "face" is usually a badge or pattern


class ConsentRequired(PersonError):
    """The person has no active consent that allows identification."""


@dataclass(frozen=True)
class EnrollOptions:
    face: int | None = None                # 1-based, faces numbered left to right
    photo_date: str | None = None
    actor: str = "cli"
    sweep: bool = True                     # False: the caller swept once already (a bulk import)


@dataclass(frozen=True)
class EnrollResult:
    photo: str
    status: str                            # accepted | rejected
    reason: str | None = None
    reference_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def enroll(ws: "Workspace", person_id: int, photos: Sequence[Path], options: EnrollOptions) -> list[EnrollResult]:
    """Check and store each photo as a reference; refuses without an identification consent."""
    get_person(ws, person_id)
    consent_id = active_consent(ws, person_id, "identification")
    if consent_id is None:
        raise ConsentRequired(f"person {person_id} has no active consent with scope 'identification'; "
                              "record one first (svidok consent add)")
    check_date(options.photo_date, "--photo-date")
    if options.sweep:
        sweep_orphan_references(ws)
    return [_enroll_one(ws, person_id, consent_id, Path(photo), options) for photo in photos]


def _enroll_one(ws: "Workspace", person_id: int, consent_id: int, photo: Path,
                options: EnrollOptions) -> EnrollResult:
    face, reason = _pick_face(ws, photo, options.face)
    if face is None:
        return EnrollResult(str(photo), "rejected", reason)
    match = ws.settings.match
    if face.quality.size_px < match.reference_min_face:
        return EnrollResult(str(photo), "rejected",
                            f"face too small: {face.quality.size_px} px, needs at least {match.reference_min_face} px")
    if face.quality.sharpness < match.reference_min_sharpness:
        return EnrollResult(str(photo), "rejected", f"face too blurred: sharpness {face.quality.sharpness:.1f}, "
                                                    f"needs at least {match.reference_min_sharpness:.1f}")
    reference_id = _store(ws, person_id, consent_id, photo, face, options)
    return EnrollResult(str(photo), "accepted", None, reference_id)


def reference_face_options(ws: "Workspace"):  # noqa: ANN201 - analyzers.faces.FaceOptions
    """The archive's face options, with the reference jitter and no size floor (checked here)."""
    from svidok.analyzers.faces import FaceOptions

    base = FaceOptions.from_settings(ws.settings.analyze)
    return dataclasses.replace(base, jitter=ws.settings.match.reference_jitter, min_size=1)


def _pick_face(ws: "Workspace", photo: Path, number: int | None) -> tuple["DetectedFace | None", str | None]:
    from svidok.analyzers.base import AnalysisError
    from svidok.analyzers.faces import detect_faces, load_image

    if not photo.is_file():
        return None, "file not found"
    try:
        image = load_image(photo, ws.settings.analyze.max_pixels)
    except AnalysisError as exc:
        return None, str(exc)
    faces = sorted(detect_faces(image, reference_face_options(ws)), key=lambda f: f.box[3])
    if len(faces) > 1:
        faces = [f for f in faces if _detection_confidence(image, f.box) >= MIN_DETECTION_CONFIDENCE] or faces
    if not faces:
        return None, "no face found"
    if number is not None:
        if not 1 <= number <= len(faces):
            return None, f"--face {number}: the photo has {len(faces)} face(s)"
        return faces[number - 1], None
    if len(faces) > 1:
        return None, f"{len(faces)} faces found; pick one with --face N (1 = leftmost)"
    return faces[0], None


def _detection_confidence(image, box: tuple[int, int, int, int]) -> float:  # noqa: ANN001 - RGB array
    """dlib's HOG score for one detected box, re-run on the box grown by half its size."""
    import cv2

    from svidok.analyzers.faces import FaceModels

    top, right, bottom, left = box
    side = max(1, bottom - top)
    crop = image[max(0, top - side // 2): bottom + side // 2, max(0, left - side // 2): right + side // 2]
    scale = 160 / max(1, crop.shape[0])
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    _, scores, _ = FaceModels.shared().loaded.hog.run(crop, 0, -1.0)
    return float(max(scores, default=-1.0))


def _store(ws: "Workspace", person_id: int, consent_id: int, photo: Path, face: "DetectedFace",
           options: EnrollOptions) -> int:
    with ws.transaction():
        stored = ws.references.put_file(photo)
        row = {"person_id": person_id, "consent_id": consent_id, "photo_sha256": stored.sha256,
               "photo_path": stored.relpath, "photo_date": options.photo_date, "box": json.dumps(list(face.box)),
               "quality": json.dumps(face.quality.as_dict()), "embedding": face.embedding.astype("float32").tobytes(),
               "model": face.model, "model_version": face.model_version, "created_at": utc_now()}
        reference_id = ws.db.insert("reference", row)
        ws.audit.append(options.actor, "reference.enroll", f"reference:{reference_id}",
                        {"person_id": person_id, "consent_id": consent_id, "photo_sha256": stored.sha256})
    return reference_id


@dataclass(frozen=True)
class Reference:
    id: int
    person_id: int
    embedding: bytes


def load_references(ws: "Workspace", person_ids: Sequence[int], space: "FaceSpace") -> list[Reference]:
    """Reference embeddings of these persons whose consent is still active, of one face model's space."""
    if not person_ids:
        return []
    marks = ",".join("?" * len(person_ids))
    in_space, space_args = space.where("reference")
    rows = ws.conn.execute(
        f"SELECT reference.id, reference.person_id, reference.embedding FROM reference"
        f" JOIN consent ON consent.id = reference.consent_id AND consent.revoked_at IS NULL"
        f" WHERE reference.person_id IN ({marks}) AND {in_space} ORDER BY reference.person_id, reference.id",
        [*person_ids, *space_args])
    return [Reference(*r) for r in rows]
