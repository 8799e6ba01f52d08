"""The `faces` analyzer: faces, face crops, frames and face tracks for one photo or video.

For one media file (steps 1-3 and the linking of 5 computed with no transaction open, the rows
then written in the pipeline's short transaction for the file):
1. sample frames (`analyzers.frames`): a photo is one frame, a video a few per second;
2. detect, embed and rate the faces of each frame (`analyzers.faces`); in a video, frames
   between full searches get a cheaper search focused on the faces already seen (`ScanPlan`,
   `analyze.face_full_scan_every`), and a face staying in place is embedded only every
   `analyze.face_embed_every`-th sampled frame (or when clearly better); the work is spread
   over `analyze.face_workers` forked processes; faces without an embedding are not stored;
3. store each face crop (box plus a margin) and, for videos, each frame that has a face as
   JPEG in `derived/` with an `artifact` row (kind crop/frame, source = the media);
4. write one `face` row per face (float32 embedding bytes of the active face model,
   `analyze.face_model`, whose name and version the row records; box and quality JSON);
5. link the faces into tracks (`analyzers.tracks`), write `track` rows, point faces at them.
   A photo's faces each get their own one-face track, so matchers can always work on tracks.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from svidok.analyzers import faces as face_search
from svidok.analyzers.base import AnalysisOutcome, Analyzer, MediaFile
from svidok.analyzers.faces import (
    FACE_MODEL,
    Chain,
    DetectedFace,
    FaceModels,
    FaceOptions,
    Focus,
    detect_faces,
    follow,
)
from svidok.analyzers.frames import Frame, FrameOptions, iter_frames
from svidok.analyzers.model_thresholds import ThresholdsMissing, thresholds_for
from svidok.analyzers.tracks import Track, TrackedFace, TrackOptions, link_tracks
from svidok.foundation.clock import utc_now
from svidok.foundation.settings import AnalyzeSettings
from svidok.foundation.store import StoredFile

if TYPE_CHECKING:
    from svidok.foundation.store import ContentStore
    from svidok.foundation.workspace import Workspace

CROP_MARGIN = 0.3          # crop = box grown by this fraction of its size on every side
JPEG_QUALITY = 90
FULL_SCAN_GAP_S = 10.0    # a video frame this long after the last full face search gets one


class FaceAnalyzer(Analyzer):
    """Faces and face tracks in photos and videos."""

    name = "faces"
    version = "1"
    accepts = ("image", "video")

    def __init__(self, settings: AnalyzeSettings | None = None) -> None:
        self.settings = settings

    @property
    def producer(self) -> str:
        return f"{self.name} {self.version}"

    def params(self, settings: AnalyzeSettings | None = None) -> dict[str, Any]:
        settings = settings or self.settings or AnalyzeSettings()
        return {"faces": FaceOptions.from_settings(settings).as_dict(),
                "frames": asdict(FrameOptions.from_settings(settings))}

    def gather(self, media: MediaFile, workspace: "Workspace") -> FaceJob:
        return FaceJob(self.settings or workspace.settings.analyze, workspace.derived)

    def compute(self, media: MediaFile, job: "FaceJob") -> FacesFound:
        """Steps 1-3 and 5, with no database: frames, faces, crops and frames stored as files, tracks."""
        face_options = FaceOptions.from_settings(job.settings)
        is_video = media.mime.startswith("video/")
        found = FacesFound(json.dumps(self.params(job.settings), sort_keys=True))
        per_frame: list[tuple[float | None, list[TrackedFace]]] = []
        frames = iter_frames(media.path, media.mime, FrameOptions.from_settings(job.settings))       # 1
        workers = job.settings.face_workers if is_video else 1
        for frame, detected in faces_in_frames(frames, face_options, workers):                     # 2
            faces = [face for face in detected if face.embedding is not None]
            if not faces:
                continue
            frame_file = job.store.put_bytes(encode_jpeg(frame.image), "jpg") if is_video else None  # 3
            members = []
            for face in faces:
                crop_file = job.store.put_bytes(encode_jpeg(crop(frame.image, face.box)), "jpg")
                found.faces.append(FoundFace(frame.time_s, face, crop_file, frame_file))
                members.append(TrackedFace(len(found.faces) - 1, frame.time_s, face))
            per_frame.append((frame.time_s, members))
        found.tracks = _tracks(per_frame, is_video, track_options(face_options.model))             # 5
        return found

    def store(self, media: MediaFile, found: FacesFound, workspace: "Workspace") -> AnalysisOutcome:
        """Step 4 and the rows of 3 and 5, in the caller's transaction."""
        frames = {f.frame_file.sha256: f for f in found.faces if f.frame_file is not None}
        for first in frames.values():
            self._artifact(workspace, media, first.frame_file, "frame", first.time_s)
        ids = [self._insert_face(workspace, media, f, found.params_json) for f in found.faces]
        for track in found.tracks:
            self._insert_track(workspace, media, track, ids)
        return AnalysisOutcome({"faces": len(found.faces), "tracks": len(found.tracks), "frames": len(frames)})

    def clear(self, media: MediaFile, workspace: "Workspace") -> None:
        """Remove this file's faces, tracks and crops, except those a decided sighting rests on:
        what reviewers confirmed or rejected stays as they saw it."""
        conn = workspace.conn
        kept = ("SELECT track_id FROM sighting WHERE media_sha256 = :m AND track_id IS NOT NULL"
                " AND status NOT IN ('pending', 'withdrawn')")
        args = {"m": media.sha256, "a": self.name}
        conn.execute(f"UPDATE sighting SET track_id = NULL WHERE track_id IN (SELECT id FROM track WHERE"
                     f" media_sha256 = :m AND analyzer = :a) AND track_id NOT IN ({kept})", args)
        conn.execute(f"UPDATE face SET track_id = NULL WHERE media_sha256 = :m AND track_id NOT IN ({kept})", args)
        conn.execute("DELETE FROM face WHERE media_sha256 = :m AND track_id IS NULL", args)     # every model's
        conn.execute(f"DELETE FROM track WHERE media_sha256 = :m AND analyzer = :a AND id NOT IN ({kept})", args)
        conn.execute(
            "DELETE FROM artifact WHERE source_sha256 = :m AND producer LIKE :p AND sha256 NOT IN"
            " (SELECT crop_sha256 FROM face WHERE crop_sha256 IS NOT NULL"
            "  UNION SELECT frame_sha256 FROM face WHERE frame_sha256 IS NOT NULL)",
            {**args, "p": f"{self.name} %"},
        )

    def _artifact(self, workspace: "Workspace", media: MediaFile, stored: StoredFile, kind: str,
                  time_s: float | None) -> None:
        workspace.conn.execute(
            "INSERT INTO artifact (sha256, kind, source_sha256, time_s, mime, path, producer, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (stored.sha256, kind, media.sha256, time_s, stored.mime, stored.relpath, self.producer, utc_now()),
        )

    def _insert_face(self, workspace: "Workspace", media: MediaFile, found: "FoundFace", params_json: str) -> int:
        self._artifact(workspace, media, found.crop_file, "crop", found.time_s)
        face = found.face
        return workspace.conn.execute(
            "INSERT INTO face (media_sha256, time_s, box, quality, embedding, crop_sha256, frame_sha256, model,"
            " model_version, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (media.sha256, found.time_s, json.dumps(list(face.box)), json.dumps(face.quality.as_dict()),
             face.embedding.astype(np.float32).tobytes(), found.crop_file.sha256,
             found.frame_file.sha256 if found.frame_file else None, face.model, face.model_version, params_json),
        ).scalar_one()

    def _insert_track(self, workspace: "Workspace", media: MediaFile, track: Track, face_ids: list[int]) -> int:
        best = [face_ids[m.key] for m in track.best()]
        track_id = workspace.conn.execute(
            "INSERT INTO track (media_sha256, start_s, end_s, n_faces, embedding, best_face_ids, analyzer,"
            " analyzer_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (media.sha256, track.start_s, track.end_s, len(track.members), track.embedding.tobytes(),
             json.dumps(best), self.name, self.version),
        ).scalar_one()
        workspace.conn.executemany("UPDATE face SET track_id = ? WHERE id = ?",
                                   [(track_id, face_ids[m.key]) for m in track.members])
        return track_id


@dataclass(frozen=True)
class FaceJob:
    """What finding the faces of one file needs: the settings and where derived files go."""

    settings: AnalyzeSettings
    store: "ContentStore"


@dataclass(frozen=True)
class FoundFace:
    """One face with an embedding, its crop (and, in a video, its frame) already stored as files."""

    time_s: float | None
    face: DetectedFace
    crop_file: StoredFile
    frame_file: StoredFile | None


@dataclass
class FacesFound:
    """The computed result for one file; track members point into `faces` by index."""

    params_json: str
    faces: list[FoundFace] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)


@dataclass
class ScanPlan:
    """Which sampled video frames get the full search and which the focused one.

    Full: the first frame, every scene cut, every `full_scan_every`-th frame, and any frame
    `FULL_SCAN_GAP_S` or more after the last full search; the rest are focused on the faces
    of the frame before (`Focus`). `full_scan_every` 1 searches every frame in full.
    It also follows each face of the shot by place (`chains`, reset at a scene cut), which
    decides whose embedding is due (`analyzers.faces.Chain`).
    """

    full_scan_every: int = 1
    since_full: int = 0
    last_full_s: float = -1e9
    regions: tuple[tuple[int, int, int, int], ...] = ()
    chains: tuple[Chain, ...] = ()

    def focus(self, time_s: float | None, cut: bool) -> Focus | None:
        """The focus for the next frame, or None for the full search."""
        t = time_s or 0.0
        if cut:
            self.chains = ()
        if (self.full_scan_every <= 1 or cut or self.since_full + 1 >= self.full_scan_every
                or t - self.last_full_s >= FULL_SCAN_GAP_S):
            self.since_full, self.last_full_s = 0, t
            return None
        self.since_full += 1
        return Focus(self.regions)

    def saw(self, faces: list[DetectedFace]) -> None:
        self.regions = tuple(face.box for face in faces)
        followed = follow(list(self.regions), self.chains)
        self.chains = tuple((chain or Chain(face.box)).then(face) for chain, face in zip(followed, faces))


def faces_in_frames(frames: Iterable[Frame], options: FaceOptions,
                    workers: int = 1) -> Iterator[tuple[Frame, list[DetectedFace]]]:
    """Each frame with its faces, in order, searched as the `ScanPlan` says.

    With `workers` > 1 the frames are searched in that many forked processes (the dlib models,
    loaded before the fork, are shared copy-on-write) while this process decodes the next ones;
    a focused frame then uses the faces of the latest frame already done. While another thread
    runs (the pipeline's speech thread uses the second core) everything stays in this process.
    """
    plan = ScanPlan(options.full_scan_every)
    if threading.active_count() > 1:
        workers = 1                         # never fork while another thread (speech) runs: it may hold a lock
    if workers <= 1:
        for frame in frames:
            focus = plan.focus(frame.time_s, frame.cut)
            faces = detect_faces(frame.image, options, focus, plan.chains)
            plan.saw(faces)
            yield frame, faces
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    FaceModels.shared().loaded
    pending: deque = deque()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pool.submit(int).result()           # fork now, before the decoder starts its threads
        for frame in frames:
            focus = plan.focus(frame.time_s, frame.cut)
            pending.append((frame, pool.submit(_search, frame.image, options, focus, plan.chains)))
            while len(pending) >= workers:         # keeps the chains of the frame before last current
                yield _collect(pending.popleft(), plan)
        while pending:
            yield _collect(pending.popleft(), plan)


def _search(image: np.ndarray, options: FaceOptions, focus: Focus | None,
            chains: tuple[Chain, ...]) -> tuple[list[DetectedFace], float, float]:
    """detect_faces in a worker process, with the seconds it spent detecting and embedding."""
    before = dict(face_search.stage_seconds)
    faces = detect_faces(image, options, focus, chains)
    after = face_search.stage_seconds
    return faces, after["detect"] - before["detect"], after["embed"] - before["embed"]


def _collect(item: tuple[Frame, Any], plan: ScanPlan) -> tuple[Frame, list[DetectedFace]]:
    frame, future = item
    faces, detect_s, embed_s = future.result()
    face_search.stage_seconds["detect"] += detect_s
    face_search.stage_seconds["embed"] += embed_s
    plan.saw(faces)
    return frame, faces


def track_options(face_model: str) -> TrackOptions:
    """Track linking distances for a face model: dlib's as `TrackOptions` has them; another model's
    scaled by its calibrated thresholds relative to dlib's (its distances have another scale)."""
    from svidok.analyzers.face_spaces import space_of

    base = TrackOptions()
    model = space_of(face_model).model
    if model == FACE_MODEL:
        return base
    try:
        own, dlib = thresholds_for(model), thresholds_for(FACE_MODEL)
    except ThresholdsMissing:
        return base
    return TrackOptions(base.iou_min, base.same_distance * own.threshold / dlib.threshold,
                        base.strict_distance * own.strict / dlib.strict, base.best_n)


def _tracks(per_frame: list[tuple[float | None, list[TrackedFace]]], is_video: bool,
            options: TrackOptions | None = None) -> list[Track]:
    if is_video:
        return link_tracks(per_frame, options)
    singles = []
    for _time, members in per_frame:
        for member in members:
            track = Track()
            track.add(member)
            singles.append(track)
    return singles


def crop(image: np.ndarray, box: tuple[int, int, int, int], margin: float = CROP_MARGIN) -> np.ndarray:
    """The face box grown by `margin` on every side, clipped to the image."""
    top, right, bottom, left = box
    grow_y, grow_x = round((bottom - top) * margin), round((right - left) * margin)
    height, width = image.shape[:2]
    return image[max(0, top - grow_y):min(height, bottom + grow_y), max(0, left - grow_x):min(width, right + grow_x)]


def encode_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """RGB uint8 pixels as JPEG bytes."""
    import cv2

    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()
