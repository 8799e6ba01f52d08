"""The `perceptual` analyzer and the near-duplicate rules: is this the same picture, the same footage?

For one media file the analyzer stores its `Fingerprint` (`analyzers/perceptual.py`) in
`media_phash`: a photo's three hashes, or a video's frame hashes with their times. Grouping
the archive's near-duplicates into footage groups is the matching stage's job
(`matching/footage.py`), which compares fingerprints with the two rules here:

- **photos** (`same_image`): the same picture when the DCT hash and the difference hash are
  both within `IMAGE_MAX_BITS` bits, or the centre hashes are within `CENTRE_MAX_BITS` (a
  crop or a corner logo moves the whole-picture hashes more than the centre's);
- **videos** (`align`): the frame hashes of one are found, in order, in the other: every pair
  of frames within `FRAME_MAX_BITS` bits votes for a time offset between the two; for the best
  offsets each frame of the first is compared with the other's frames at that offset (the
  nearest ones, since the two were sampled at different moments); the longest stretch of
  matching frames (bad frames allowed in runs of at most `MAX_GAP`) makes the alignment. It
  links the two when at least `MIN_FRAMES` frames match there and their median distance is
  within `MEDIAN_MAX_BITS`. A trimmed excerpt, a clip with an added intro, a re-encode at
  another frame rate or size all align; the offset says where one sits in the other.

The thresholds were chosen on part of the benchmark data (`benchmarks/near_duplicates.py`,
docs/BENCHMARKS.md) and measured on the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from svidok.analyzers.base import AnalysisOutcome, Analyzer, MediaFile
from svidok.analyzers.perceptual import STEP_S, Fingerprint

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

IMAGE_MAX_BITS = 10          # photos: the photo rule's distance within this many bits
MAX_SHIFT = 3                # photos: crops compared up to this many pyramid levels apart
FRAME_MAX_BITS = 8           # video windows this close match
MEDIAN_MAX_BITS = 8          # the matched windows' median distance must be within this
MIN_FRAMES = 5               # at least this many windows (2.5 s) must match in order
MAX_GAP = 2                  # consecutive non-matching windows allowed inside a matched stretch
TOP_OFFSETS = 3              # offsets (by votes) examined in full
CELLS = 1 << 22              # window pairs compared per block
LEVEL_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (1, 0), (1, 2), (2, 1))   # video crops compared


@dataclass(frozen=True)
class Alignment:
    """Where two videos show the same footage: b's time = a's time + offset_s."""

    offset_s: float
    start_s: float            # the matched stretch, in a's time
    end_s: float
    frames: int               # a's windows in the stretch that match
    distance: float           # their median Hamming distance (bits of 64)


def image_distances(query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The photo rule's distance from one photo's hashes to each row of a (n, 7) matrix of others.

    For each shift k (a crop k pyramid levels deeper in one than in the other) the levels are
    paired (i, i + k), the difference hashes too when k = 0; the shift's distance is the
    second-smallest of its pairs (two crops must agree); the photo distance the smallest over shifts.
    """
    query, matrix = np.asarray(query, np.uint64), np.asarray(matrix, np.uint64).reshape(-1, len(query))
    levels = np.bitwise_count(matrix[:, 1:, None] ^ query[None, None, 1:]).astype(np.int16)   # (n, b level, a level)
    best = np.full(len(matrix), 64, np.int16)
    for k in range(-MAX_SHIFT, MAX_SHIFT + 1):
        pairs = np.diagonal(levels, k, axis1=1, axis2=2)
        if k == 0:
            pairs = np.concatenate([pairs, np.bitwise_count(matrix[:, :1] ^ query[:1]).astype(np.int16)], axis=1)
        best = np.minimum(best, np.partition(pairs, 1, axis=1)[:, 1])
    return best


def same_image(a: Fingerprint, b: Fingerprint) -> int | None:
    """The distance (bits) when two photos are the same picture by the photo rule, else None."""
    if not (a.informative and b.informative and a.kind == b.kind == "image"):
        return None
    distance = int(image_distances(a.hashes, b.hashes[None, :])[0])
    return distance if distance <= IMAGE_MAX_BITS else None


def frame_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) distances between video windows: the closest of their crops' pairs."""
    a, b = np.asarray(a, np.uint64), np.asarray(b, np.uint64)
    out = np.full((len(a), len(b)), 64, np.uint8)
    rows = max(1, CELLS // max(1, len(b)))               # bounds the uint64 temporaries
    for start in range(0, len(a), rows):
        part = out[start:start + rows]
        for i, j in LEVEL_PAIRS:
            np.minimum(part, np.bitwise_count(a[start:start + rows, i, None] ^ b[None, :, j]), out=part)
    return out


def align(a: Fingerprint, b: Fingerprint, frame_max_bits: int = FRAME_MAX_BITS) -> Alignment | None:
    """The best alignment of video a inside video b (or b inside a), or None when no windows match."""
    if not (a.informative and b.informative) or a.times is None or b.times is None:
        return None
    dist = frame_distances(a.hashes, b.hashes)
    best: Alignment | None = None
    for offset in _voted_offsets(a.times, b.times, dist, frame_max_bits):
        found = _stretch(a.times, b.times, dist, offset, frame_max_bits)
        if found is not None and (best is None or (found.frames, -found.distance) > (best.frames, -best.distance)):
            best = found
    return best


def same_footage(found: Alignment | None) -> bool:
    """The video rule: enough windows matching in order, closely enough."""
    return found is not None and found.frames >= MIN_FRAMES and found.distance <= MEDIAN_MAX_BITS


def _voted_offsets(ta: np.ndarray, tb: np.ndarray, dist: np.ndarray, max_bits: int) -> list[float]:
    """The offsets (seconds, multiples of STEP_S) most often voted for by matching frame pairs."""
    shift = round(float(ta.max() - tb.min()) / STEP_S) + 1                 # every bin index >= 0
    votes = np.zeros(shift + round(float(tb.max() - ta.min()) / STEP_S) + 2, np.int64)
    rows = max(1, CELLS // max(1, len(tb)))
    for start in range(0, len(ta), rows):                # in blocks: a long static video matches everywhere
        i, j = np.nonzero(dist[start:start + rows] <= max_bits)
        bins = np.round((tb[j] - ta[start + i]) / STEP_S).astype(np.int64) + shift
        votes += np.bincount(bins, minlength=len(votes))
    top = np.argsort(-votes, kind="stable")[:TOP_OFFSETS]
    return [float(b - shift) * STEP_S for b in top if votes[b] > 0]


def _stretch(ta: np.ndarray, tb: np.ndarray, dist: np.ndarray, offset: float, max_bits: int) -> Alignment | None:
    """The longest stretch of a's frames matching b at this offset (bad frames in short runs allowed)."""
    per_frame = _distance_at(ta, tb, dist, offset).tolist()
    best, start, good, bad = (0, 0, 0), None, 0, 0
    for i, d in enumerate(per_frame):
        if d <= max_bits:
            start, good = (i, 0) if start is None else (start, good)
            good, bad = good + 1, 0
            if good > best[0]:
                best = (good, start, i)
        elif d != OUTSIDE and start is not None and bad < MAX_GAP:
            bad += 1
        else:
            start, bad = None, 0
    good, first, last = best
    if not good:
        return None
    matched = [d for d in per_frame[first:last + 1] if d <= max_bits]
    return Alignment(round(offset, 3), float(ta[first]), float(ta[last]), good, float(np.median(matched)))


OUTSIDE = 255                 # no frame of b near this frame of a at this offset


def _distance_at(ta: np.ndarray, tb: np.ndarray, dist: np.ndarray, offset: float) -> np.ndarray:
    """For each frame of a, the distance to the nearest-in-time frames of b at this offset (OUTSIDE: none)."""
    want = ta + offset
    right = np.searchsorted(tb, want)
    rows = np.arange(len(ta))
    out = np.full(len(ta), OUTSIDE, dtype=np.int32)
    for j in (right - 1, right):
        jj = np.clip(j, 0, len(tb) - 1)
        near = (j >= 0) & (j < len(tb)) & (np.abs(tb[jj] - want) <= STEP_S * 1.01)
        out = np.where(near, np.minimum(out, dist[rows, jj]), out)
    return out


class PerceptualAnalyzer(Analyzer):
    """Perceptual hashes of photos and videos (for near-duplicates and reposted reference photos)."""

    name: ClassVar[str] = "perceptual"
    version: ClassVar[str] = "1"
    accepts: ClassVar[tuple[str, ...]] = ("image", "video")

    def params(self) -> dict[str, Any]:
        from svidok.analyzers import perceptual as p

        return {"step_s": p.STEP_S, "window_bins": p.WINDOW_BINS, "thumb_w": p.THUMB_W, "flat_std": p.FLAT_STD,
                "image_levels": p.IMAGE_LEVELS, "video_levels": p.VIDEO_LEVELS}

    def gather(self, media: MediaFile, workspace: "Workspace") -> tuple[float, int]:
        settings = workspace.settings.analyze
        return settings.max_seconds_per_file, settings.max_pixels

    def compute(self, media: MediaFile, gathered: tuple[float, int]) -> Fingerprint:
        from svidok.analyzers.frames import load_image, media_kind
        from svidok.analyzers.perceptual import image_fingerprint, video_fingerprint

        max_seconds, max_pixels = gathered
        if media_kind(media.path, media.mime) == "image":
            return image_fingerprint(load_image(media.path, max_pixels))
        return video_fingerprint(media.path, max_seconds=max_seconds, max_pixels=max_pixels)

    def store(self, media: MediaFile, computed: Fingerprint, workspace: "Workspace") -> AnalysisOutcome:
        workspace.conn.execute(
            "INSERT INTO media_phash (media_sha256, kind, hashes, times, frames, analyzer, analyzer_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (media.sha256, computed.kind, computed.hashes_blob(), computed.times_blob(), computed.frames,
             self.name, self.version))
        return AnalysisOutcome({"perceptual_hashes": len(computed.hashes)})

    def clear(self, media: MediaFile, workspace: "Workspace") -> None:
        workspace.conn.execute("DELETE FROM media_phash WHERE media_sha256 = ?", (media.sha256,))
