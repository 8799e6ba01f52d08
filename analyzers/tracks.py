"""Face tracks: the same person across the sampled frames of one clip becomes one track.

    [(time, [DetectedFace])] ──link_tracks──▶ [Track(members, best, embedding)]

Faces are taken frame by frame, in time order. A face joins the open track that it fits best:
- its box overlaps the track's last box (IoU >= `iou_min`) and its embedding is within
  `same_distance` of the track's last embedding (the person moved a little), or
- whatever the boxes, its embedding is within `strict_distance` of the track's
  representative embedding (the person came back after a cut or a skipped stretch).
Each track takes at most one face per frame. A face that fits none starts a new track.

A track's representative embedding is the quality-weighted mean of its members' embeddings,
rescaled to the members' mean length (so distances stay on dlib's usual scale, where 0.6
is the customary same-person limit). Its best faces are the `best_n` of highest quality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from svidok.analyzers.faces import DetectedFace, iou

__all__ = ["Track", "TrackOptions", "TrackedFace", "iou", "link_tracks", "representative_embedding"]


@dataclass(frozen=True)
class TrackOptions:
    iou_min: float = 0.3
    same_distance: float = 0.6
    strict_distance: float = 0.45
    best_n: int = 3


@dataclass(frozen=True)
class TrackedFace:
    """A face with where it sits in the clip: `key` is the caller's id (e.g. the face row id)."""

    key: int
    time_s: float | None
    face: DetectedFace


@dataclass
class Track:
    """One person in one clip."""

    members: list[TrackedFace] = field(default_factory=list)
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(128, np.float32))

    @property
    def last(self) -> TrackedFace:
        return self.members[-1]

    @property
    def start_s(self) -> float | None:
        return self.members[0].time_s

    @property
    def end_s(self) -> float | None:
        return self.members[-1].time_s

    def best(self, n: int = 3) -> list[TrackedFace]:
        return sorted(self.members, key=lambda m: -m.face.quality.score)[:n]

    def add(self, member: TrackedFace) -> None:
        self.members.append(member)
        self.embedding = representative_embedding([m.face for m in self.members])


def representative_embedding(faces: Sequence[DetectedFace]) -> np.ndarray:
    """Quality-weighted mean embedding, rescaled to the members' mean length (float32[128])."""
    vectors = np.stack([f.embedding.astype(np.float64) for f in faces])
    weights = np.array([max(f.quality.score, 1e-3) for f in faces])
    mean = (vectors * weights[:, None]).sum(axis=0) / weights.sum()
    norm = np.linalg.norm(mean)
    if norm > 0:
        mean *= np.linalg.norm(vectors, axis=1).mean() / norm
    return mean.astype(np.float32)


def _fit(track: Track, face: DetectedFace, options: TrackOptions) -> float | None:
    """How well a face continues a track (lower is better), or None when it does not."""
    last = track.last.face
    near = float(np.linalg.norm(face.embedding - last.embedding))
    if iou(face.box, last.box) >= options.iou_min and near <= options.same_distance:
        return near
    overall = float(np.linalg.norm(face.embedding - track.embedding))
    if overall <= options.strict_distance:
        return overall
    return None


def link_tracks(frames: Iterable[tuple[float | None, Sequence[TrackedFace]]],
                options: TrackOptions | None = None) -> list[Track]:
    """Group the faces of consecutive frames into tracks (see the module docstring)."""
    options = options or TrackOptions()
    tracks: list[Track] = []
    for _time, faces in frames:
        candidates = []
        for fi, member in enumerate(faces):
            for ti, track in enumerate(tracks):
                cost = _fit(track, member.face, options)
                if cost is not None:
                    candidates.append((cost, fi, ti))
        taken_faces: set[int] = set()
        taken_tracks: set[int] = set()
        for _cost, fi, ti in sorted(candidates):
            if fi in taken_faces or ti in taken_tracks:
                continue
            tracks[ti].add(faces[fi])
            taken_faces.add(fi)
            taken_tracks.add(ti)
        for fi, member in enumerate(faces):
            if fi not in taken_faces:
                track = Track()
                track.add(member)
                tracks.append(track)
    return tracks
