"""Searching many fingerprints for the near-duplicates of one (in memory; no database).

Photos: every photo's hashes in one (n, 7) matrix, compared in vectorised blocks with the photo
rule (`analyzers.near_duplicates.image_distances`): about 40 popcounts per archived photo.
Videos: the window hashes of all videos in one array with the video each belongs to; a query's
windows (every `PREFILTER_EVERY`-th, at most `PREFILTER_MAX`) are compared with all of them, and
only videos with a window within `FRAME_MAX_BITS` bits are aligned in full (`align`,
`same_footage`). The cost is (query windows sampled) x (archived windows) x 7 crop pairs: a few
seconds per video for a million archived windows (an hour of video has 7,200)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svidok.analyzers.near_duplicates import (
    FRAME_MAX_BITS,
    IMAGE_MAX_BITS,
    Alignment,
    align,
    frame_distances,
    image_distances,
    same_footage,
)
from svidok.analyzers.perceptual import Fingerprint

PREFILTER_EVERY = 2          # every 2nd frame of a query video (1 s) looks for candidates
PREFILTER_MAX = 1024
BLOCK = 1 << 20              # (archived windows x probes) compared per block
IMAGE_BLOCK = 1 << 18        # archived photos compared per block


@dataclass(frozen=True)
class Match:
    """An archived media file showing the same picture or footage as the query."""

    key: str                      # the archived media's SHA-256 (or any key the caller gave)
    method: str                   # image | video
    distance: float               # bits: the photo rule's distance, or the frames' median
    alignment: Alignment | None = None


class FingerprintIndex:
    """Fingerprints of archived media, searched for near-duplicates of one."""

    def __init__(self) -> None:
        self._image_keys: list[str] = []
        self._image_rows: list[np.ndarray] = []
        self._images: np.ndarray = np.empty((0, 0), np.uint64)
        self._videos: dict[str, Fingerprint] = {}
        self._frame_owner: list[np.ndarray] = []
        self._frame_hashes: list[np.ndarray] = []
        self._video_keys: list[str] = []
        self._frames: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._image_keys) + len(self._video_keys)

    def add(self, key: str, fingerprint: Fingerprint) -> None:
        if not fingerprint.informative:
            return
        if fingerprint.kind == "image":
            self._image_keys.append(key)
            self._image_rows.append(np.asarray(fingerprint.hashes, np.uint64))
        else:
            self._videos[key] = fingerprint
            self._frame_owner.append(np.full(len(fingerprint.hashes), len(self._video_keys), np.int64))
            self._frame_hashes.append(np.asarray(fingerprint.hashes, np.uint64))
            self._video_keys.append(key)
            self._frames = None

    def search(self, fingerprint: Fingerprint, exclude: str | None = None) -> list[Match]:
        """Every archived media that is a near-duplicate of this one, closest first."""
        if not fingerprint.informative:
            return []
        found = self._search_images(fingerprint) if fingerprint.kind == "image" else self._search_videos(fingerprint)
        return sorted((m for m in found if m.key != exclude), key=lambda m: (m.distance, m.key))

    def _search_images(self, query: Fingerprint) -> list[Match]:
        if len(self._images) != len(self._image_keys):
            self._images = np.stack(self._image_rows)
        if not len(self._images):
            return []
        found = []
        for start in range(0, len(self._images), IMAGE_BLOCK):
            distance = image_distances(query.hashes, self._images[start:start + IMAGE_BLOCK])
            found += [Match(self._image_keys[start + i], "image", float(distance[i]))
                      for i in np.flatnonzero(distance <= IMAGE_MAX_BITS)]
        return found

    def _search_videos(self, query: Fingerprint) -> list[Match]:
        found = []
        for i in self._candidate_videos(query):
            key = self._video_keys[i]
            alignment = align(query, self._videos[key])
            if same_footage(alignment):
                found.append(Match(key, "video", alignment.distance, alignment))
        return found

    def _candidate_videos(self, query: Fingerprint) -> list[int]:
        """Videos holding a frame within FRAME_MAX_BITS of some sampled frame of the query."""
        if not self._video_keys:
            return []
        if self._frames is None:
            self._frames = (np.concatenate(self._frame_hashes), np.concatenate(self._frame_owner))
        hashes, owners = self._frames
        probe = np.asarray(query.hashes[::PREFILTER_EVERY][:PREFILTER_MAX], np.uint64)
        hit = np.zeros(len(self._video_keys), dtype=bool)
        rows = max(1, BLOCK // len(probe))
        for start in range(0, len(hashes), rows):
            close = (frame_distances(hashes[start:start + rows], probe) <= FRAME_MAX_BITS).any(axis=1)
            hit[owners[start:start + rows][close]] = True
        return np.flatnonzero(hit).tolist()
