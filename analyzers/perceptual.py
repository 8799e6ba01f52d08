"""Perceptual hashes: a fingerprint of what a photo or video shows, not of its bytes.

    photo ──grey, bars trimmed──▶ [difference hash, DCT hash of each central crop in IMAGE_LEVELS]
    video ──every frame grey, averaged per half second──▶ windows of two bins, the file's bars
          trimmed ──▶ per window: DCT hashes of the central crops in VIDEO_LEVELS

Two files showing the same picture (re-encoded, rescaled, cropped, a logo in a corner,
letterboxed) get hashes a few bits apart; different pictures differ in about half of the 64.

- **DCT hash** (pHash): the greyscale picture resized to 32x32, its 2-D DCT, the 8x8 lowest
  frequencies; a bit is set where the coefficient is above their median (the DC term left out).
  A change of brightness or contrast does not move it.
- **Difference hash** (dHash): resized to 9x8, a bit per pixel brighter than its left neighbour.
- **Central crops** (a pyramid): a copy cropped by some percent on each side shows what a deeper
  crop of the original shows, so `near_duplicates` compares crops a few levels apart; the
  deepest crops also leave out corner logos and caption strips.
- **Bars**: rows and columns at the picture's edges that are dark and unchanging (letterbox and
  pillarbox bars that reposting adds) are cut off first; in a video they are found once for the
  whole file, over all its windows.
- **Time**: a video is not hashed at sampled instants (two encodings sample different ones, and
  in moving footage a tenth of a second changes the picture) but over the average picture of
  each second, one window every half second; windows start at multiples of `STEP_S`, whatever
  the frame rate.
- **Flat pictures** (almost one colour: black frames, fades, blank photos) carry no information
  and would match each other: a flat photo gets no fingerprint; flat windows are left out.

Everything here is a pure function of the bytes (no database): `analyzers/near_duplicates.py`
stores fingerprints and compares them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svidok.analyzers.base import AnalysisError

STEP_S = 0.5              # a video is cut into half-second bins ...
WINDOW_BINS = 2           # ... and hashed every bin over the average picture of this many bins
THUMB_W = 160             # video frames are scaled to this width (greyscale) before averaging
IMAGE_LEVELS = (1.0, 0.93, 0.86, 0.8, 0.74, 0.69)   # a photo: DCT hashes of these central crops
VIDEO_LEVELS = (0.9, 0.8, 0.7)                      # a video window: the same, fewer
FLAT_STD = 4.0            # a picture whose 32x32 greyscale thumbnail varies less than this is flat
BAR_LEVEL = 28            # edge rows/columns darker than this (0-255) ...
BAR_STD = 5.0             # ... and varying less than this, are bars (a dark caption strip is not)
MAX_BAR = 0.3             # at most this fraction of a side is cut off as bars


@dataclass(frozen=True)
class Fingerprint:
    """The perceptual hashes of one media file.

    A photo: `hashes` = [difference hash, DCT hash of each `IMAGE_LEVELS` crop], `times` None.
    A video: one row of DCT hashes (`VIDEO_LEVELS`) per informative window, `times` its start in
    seconds (`frames` counts every window, flat ones too). No hashes: nothing to compare.
    """

    kind: str                      # image | video
    hashes: np.ndarray             # uint64: (1 + len(IMAGE_LEVELS),) or (windows, len(VIDEO_LEVELS))
    times: np.ndarray | None       # float32 seconds, video only
    frames: int = 1

    @property
    def informative(self) -> bool:
        return len(self.hashes) > 0

    def hashes_blob(self) -> bytes:
        return np.asarray(self.hashes, dtype="<u8").tobytes()

    def times_blob(self) -> bytes | None:
        return None if self.times is None else np.asarray(self.times, dtype="<f4").tobytes()

    @classmethod
    def from_blobs(cls, kind: str, hashes: bytes, times: bytes | None, frames: int) -> "Fingerprint":
        codes = np.frombuffer(hashes, dtype="<u8").astype(np.uint64)
        if kind == "video":
            codes = codes.reshape(-1, len(VIDEO_LEVELS))
        return cls(kind, codes, None if times is None else np.frombuffer(times, dtype="<f4").astype(np.float32),
                   frames)


def grey(rgb: np.ndarray) -> np.ndarray:
    """uint8 greyscale (BT.601 luma) of an RGB or already grey picture."""
    import cv2

    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def dct_hash(picture: np.ndarray) -> int:
    """64-bit DCT hash (pHash) of a greyscale picture."""
    import cv2

    small = cv2.resize(np.asarray(picture, np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].flatten()
    return _pack(low > np.median(low[1:]))


def diff_hash(picture: np.ndarray) -> int:
    """64-bit difference hash (dHash) of a greyscale picture."""
    import cv2

    small = cv2.resize(np.asarray(picture, np.float32), (9, 8), interpolation=cv2.INTER_AREA)
    return _pack((small[:, 1:] > small[:, :-1]).flatten())


def _pack(bits: np.ndarray) -> int:
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def centre(picture: np.ndarray, fraction: float) -> np.ndarray:
    """The middle `fraction` of each side."""
    h, w = picture.shape[:2]
    dy, dx = round(h * (1 - fraction) / 2), round(w * (1 - fraction) / 2)
    return picture[dy:h - dy, dx:w - dx]


def pyramid(picture: np.ndarray, levels: tuple[float, ...]) -> list[int]:
    """DCT hashes of the picture's central crops, outermost first."""
    return [dct_hash(centre(picture, fraction)) for fraction in levels]


def is_flat(picture: np.ndarray) -> bool:
    """Almost one colour: nothing to recognise it by."""
    import cv2

    return float(cv2.resize(np.asarray(picture, np.float32), (32, 32), interpolation=cv2.INTER_AREA).std()) < FLAT_STD


def bars(stack: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) rows/columns of dark, unchanging bars in a (frames, h, w) stack."""
    def count(means: np.ndarray, stds: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and means[n] < BAR_LEVEL and stds[n] < BAR_STD:
            n += 1
        return n

    rows_mean, rows_std = stack.mean(axis=(0, 2)), stack.std(axis=(0, 2))
    cols_mean, cols_std = stack.mean(axis=(0, 1)), stack.std(axis=(0, 1))
    h, w = stack.shape[1:]
    return (count(rows_mean, rows_std, int(h * MAX_BAR)), count(rows_mean[::-1], rows_std[::-1], int(h * MAX_BAR)),
            count(cols_mean, cols_std, int(w * MAX_BAR)), count(cols_mean[::-1], cols_std[::-1], int(w * MAX_BAR)))


def trim(picture: np.ndarray, cut: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = cut
    h, w = picture.shape[:2]
    return picture[top:h - bottom, left:w - right]


def image_fingerprint(rgb: np.ndarray) -> Fingerprint:
    """A photo's hashes (see the module docstring); none for a flat photo."""
    picture = grey(rgb)
    picture = trim(picture, bars(picture[None].astype(np.float32)))
    if picture.size == 0 or is_flat(picture):
        return Fingerprint("image", np.empty(0, np.uint64), None)
    codes = [diff_hash(picture), *pyramid(picture, IMAGE_LEVELS)]
    return Fingerprint("image", np.array(codes, dtype=np.uint64), None)


def video_fingerprint(path: Path, max_seconds: float = 3600.0, max_pixels: int = 80_000_000) -> Fingerprint:
    """One row of DCT hashes per window of WINDOW_BINS half-second bins (bars found over the whole file)."""
    starts, means = [], []
    for start, mean in binned_frames(path, max_seconds, max_pixels):
        starts.append(start)
        means.append(mean)
    if not means:
        raise AnalysisError("video has no decodable frames (empty or truncated)")
    stack = np.stack(means)
    cut = bars(stack[:: max(1, len(stack) // 200)])
    rows, kept = [], []
    for k in range(max(1, len(stack) - WINDOW_BINS + 1)):
        window = trim(stack[k:k + WINDOW_BINS].mean(axis=0), cut)
        if window.size and not is_flat(window):
            rows.append(pyramid(window, VIDEO_LEVELS))
            kept.append(starts[k])
    codes = np.array(rows, dtype=np.uint64).reshape(-1, len(VIDEO_LEVELS))
    return Fingerprint("video", codes, np.array(kept, dtype=np.float32), len(stack))


def binned_frames(path: Path, max_seconds: float, max_pixels: int) -> Iterator[tuple[float, np.ndarray]]:
    """(bin start, mean greyscale picture) of every decoded frame, binned by STEP_S of its time."""
    import av

    from svidok.analyzers.frames import FrameOptions, _av_message, _open_video

    container, stream = _open_video(path, FrameOptions(max_pixels=max_pixels))
    stream.codec_context.skip_frame = "NONREF"       # B-frames are not needed for an average: ~1/3 less decoding
    rate, decoded, current, total, count = float(stream.average_rate or 25), 0, None, None, 0
    try:
        for frame in container.decode(stream):
            decoded += 1
            t = float(frame.time) if frame.time is not None else (decoded - 1) / rate
            if t > max_seconds:
                break
            index = int(t / STEP_S)
            if current is not None and index != current:
                yield current * STEP_S, total / count
                total, count = None, 0
            current = index
            small = luma(frame)
            total = small if total is None else total + small
            count += 1
    except (av.error.FFmpegError, OSError) as exc:
        if decoded == 0:
            raise AnalysisError(f"corrupt video: {_av_message(exc)}") from None
    finally:
        container.close()
    if count:
        yield current * STEP_S, total / count


def luma(frame) -> np.ndarray:  # noqa: ANN001 - av.VideoFrame
    """The frame's brightness, THUMB_W wide, float32 (the Y plane read directly when there is one)."""
    import cv2

    height = max(2, round(frame.height * THUMB_W / frame.width))
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        y = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:frame.height, :frame.width]
        step = max(1, frame.width // (2 * THUMB_W))
        return cv2.resize(y[::step, ::step].astype(np.float32), (THUMB_W, height), interpolation=cv2.INTER_AREA)
    return frame.reformat(width=THUMB_W, height=height, format="gray").to_ndarray().astype(np.float32)
