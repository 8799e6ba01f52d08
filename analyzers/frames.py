"""Frames from photos and videos, sampled so that static footage costs little.

    media file ──frames──▶ Frame(time_s, RGB image) ──faces──▶ ...

A photo is one frame (`time_s` None). A video is decoded with PyAV and a frame is kept when
1. the base rate asks for one (`analyze.base_fps`, default 2 per second), or
2. the picture changed abruptly (a scene cut: the hue/saturation histogram of a small
   thumbnail moved by more than `analyze.scene_threshold`, as a fraction of its mass);
and then dropped again when its 64-bit difference hash (dHash) is within
`analyze.duplicate_hash_distance` bits of the last kept frame, unless it is a scene cut or
`MAX_SKIP_S` seconds have passed since the last kept frame. A static interview therefore
yields one frame every few seconds instead of 25 a second.

`iter_frames` is a generator. Input that cannot be read (not an image or video, corrupt,
truncated before any frame, audio only, empty, too many pixels) raises `AnalysisError`
with one line; the check is made before any large allocation.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from svidok.analyzers.base import AnalysisError
from svidok.foundation.mime import sniff
from svidok.foundation.settings import AnalyzeSettings

log = logging.getLogger(__name__)

MAX_SKIP_S = 5.0          # keep a frame at least this often, even in a static shot
THUMB = 32                # thumbnail side used for histograms and hashes
HIST_BINS = (8, 4)        # hue x saturation bins


@dataclass(frozen=True)
class Frame:
    """One sampled picture: seconds from the start (None for photos), RGB uint8 pixels, and
    whether it starts a new shot (a scene cut)."""

    time_s: float | None
    image: np.ndarray
    cut: bool = False


@dataclass(frozen=True)
class FrameOptions:
    """How frames are sampled (see the module docstring)."""

    base_fps: float = 2.0
    scene_threshold: float = 0.35
    duplicate_hash_distance: int = 4
    max_pixels: int = 80_000_000
    max_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: AnalyzeSettings) -> "FrameOptions":
        return cls(settings.base_fps, settings.scene_threshold, settings.duplicate_hash_distance,
                   settings.max_pixels, settings.max_seconds_per_file)


@dataclass
class SamplingStats:
    """What sampling one file did (for benchmarks and logs)."""

    decoded: int = 0
    candidates: int = 0
    kept: int = 0
    duplicates: int = 0
    scene_cuts: int = 0
    truncated: str | None = None
    cut_times: list[float] = field(default_factory=list)


def media_kind(path: Path, mime: str | None = None) -> str:
    """'image', 'video' or 'audio' from the bytes; AnalysisError for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise AnalysisError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not head:
        raise AnalysisError("empty file (0 bytes)")
    mime = mime or sniff(head, path.suffix.lstrip("."))[0]
    major = mime.split("/")[0]
    if major not in {"image", "video", "audio"}:
        raise AnalysisError(f"not an image or video ({mime})")
    return major


def load_image(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """A photo as RGB uint8, EXIF orientation applied; AnalysisError for non-images and bombs."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = max_pixels or AnalyzeSettings().max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > limit:
                    raise AnalysisError(f"image too large: {width}x{height} pixels (limit {limit:,})")
                img.draft("RGB", img.size)
                img.load()
                rgb = ImageOps.exif_transpose(img).convert("RGB")
                return np.asarray(rgb, dtype=np.uint8).copy()
    except AnalysisError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AnalysisError(f"image too large (decompression bomb?): {exc}") from None
    except UnidentifiedImageError as exc:
        raise AnalysisError(f"not a readable image: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise AnalysisError(f"corrupt or truncated image: {exc}") from None


def iter_frames(path: Path, mime: str | None = None, options: FrameOptions | None = None,
                stats: SamplingStats | None = None) -> Iterator[Frame]:
    """Yield the sampled frames of a photo or video (see the module docstring)."""
    options = options or FrameOptions()
    stats = stats if stats is not None else SamplingStats()
    kind = media_kind(path, mime)
    if kind == "image":
        stats.decoded = stats.kept = 1
        yield Frame(None, load_image(path, options.max_pixels))
        return
    if kind == "audio":
        raise AnalysisError("audio only, no pictures to analyze")
    yield from _video_frames(path, options, stats)


def dhash(gray: np.ndarray) -> int:
    """64-bit difference hash of a greyscale thumbnail (resized to 9x8)."""
    import cv2

    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _histogram(thumb_rgb: np.ndarray) -> np.ndarray:
    """Normalised hue x saturation histogram of an RGB thumbnail."""
    import cv2

    hsv = cv2.cvtColor(thumb_rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HIST_BINS), [0, 180, 0, 256]).ravel()
    return hist / max(1.0, float(hist.sum()))


def thumbnail(av_frame) -> np.ndarray:  # noqa: ANN001 - av.VideoFrame
    """A THUMB x THUMB RGB thumbnail, cheap: planes strided then area-averaged, converted at 32 px.

    Converting every decoded frame to RGB at full size (or letting swscale do it) costs more than
    decoding; only the kept frames are converted in full.
    """
    import cv2

    if av_frame.format.name not in ("yuv420p", "yuvj420p"):
        return av_frame.reformat(width=THUMB, height=THUMB, format="rgb24").to_ndarray()
    planes = [_plane(av_frame.planes[i], av_frame.height >> (i > 0), av_frame.width >> (i > 0)) for i in range(3)]
    small = [cv2.resize(plane, (THUMB, THUMB), interpolation=cv2.INTER_AREA) for plane in planes]
    y, u, v = (plane.astype(np.float32) for plane in small)
    if av_frame.format.name == "yuv420p":           # limited range (16-235), as swscale reads it
        y, u, v = (y - 16) * (255 / 219), (u - 128) * (255 / 224), (v - 128) * (255 / 224)
    else:
        u, v = u - 128, v - 128
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], axis=-1)   # BT.601
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _plane(plane, height: int, width: int) -> np.ndarray:  # noqa: ANN001 - av.VideoPlane
    """One picture plane as a strided view (at most ~4 samples per thumbnail pixel each way)."""
    rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]
    step_y, step_x = max(1, height // (4 * THUMB)), max(1, width // (4 * THUMB))
    return np.ascontiguousarray(rows[::step_y, ::step_x])


def _open_video(path: Path, options: FrameOptions):  # noqa: ANN202 - (container, stream)
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AnalysisError(f"not a readable video: {_av_message(exc)}") from None
    if not container.streams.video:
        container.close()
        raise AnalysisError("no video stream (audio only?)")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > options.max_pixels:
        container.close()
        raise AnalysisError(f"video too large: {width}x{height} pixels (limit {options.max_pixels:,})")
    if width <= 0 or height <= 0:
        container.close()
        raise AnalysisError("video stream has no picture size (corrupt header)")
    stream.thread_type = "AUTO"
    return container, stream


def _av_message(exc: BaseException) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip().splitlines()[0]


def _decoded(container, stream, stats: SamplingStats) -> Iterator:  # noqa: ANN001 - av objects
    """Decoded frames; a decoding error after some frames ends the video early (recorded)."""
    import av

    try:
        for frame in container.decode(stream):
            stats.decoded += 1
            yield frame
    except (av.error.FFmpegError, OSError) as exc:
        if stats.decoded == 0:
            raise AnalysisError(f"corrupt video: {_av_message(exc)}") from None
        stats.truncated = _av_message(exc)
        log.warning("video ends early after %d frames: %s", stats.decoded, stats.truncated)


def _video_frames(path: Path, options: FrameOptions, stats: SamplingStats) -> Iterator[Frame]:
    import cv2

    container, stream = _open_video(path, options)
    step = 1.0 / options.base_fps if options.base_fps > 0 else float("inf")
    rate = float(stream.average_rate or 25)
    next_base, last_kept_t, last_hash, last_hist = 0.0, -1e9, None, None
    try:
        for av_frame in _decoded(container, stream, stats):
            t = float(av_frame.time) if av_frame.time is not None else (stats.decoded - 1) / rate
            if t > options.max_seconds:
                stats.truncated = f"cut at max_seconds_per_file={options.max_seconds:g}"
                break
            thumb = thumbnail(av_frame)
            hist = _histogram(thumb)
            cut = last_hist is not None and 0.5 * float(np.abs(hist - last_hist).sum()) > options.scene_threshold
            last_hist = hist
            if not (cut or t >= next_base):
                continue
            while next_base <= t:
                next_base += step
            stats.candidates += 1
            stats.scene_cuts += cut
            if cut:
                stats.cut_times.append(t)
            code = dhash(cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY))
            if (not cut and last_hash is not None and t - last_kept_t < MAX_SKIP_S
                    and hamming(code, last_hash) <= options.duplicate_hash_distance):
                stats.duplicates += 1
                continue
            last_hash, last_kept_t = code, t
            stats.kept += 1
            yield Frame(t, av_frame.to_ndarray(format="rgb24"), cut)
    finally:
        container.close()
    if stats.decoded == 0:
        raise AnalysisError("video has no decodable frames (empty or truncated)")
