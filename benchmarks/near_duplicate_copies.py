"""Reposted copies for `benchmarks/near_duplicates.py`: what channels do to a clip or photo.

Every copy is written with PyAV (videos, H.264) or Pillow (photos); no ffmpeg binary is needed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

FloatFrames = list[tuple[float, np.ndarray]]           # (seconds, RGB frame)


def read_video(path: Path, max_seconds: float = 20.0) -> tuple[FloatFrames, float]:
    """All frames (seconds, RGB) of a video, and its frame rate."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        frames = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(stream)
                  if f.time is not None and f.time <= max_seconds]
    return frames, rate


def write_video(path: Path, frames: FloatFrames, rate: float, crf: int = 23) -> Path:
    """H.264 MP4 at `rate` frames per second (frames picked by time, so the rate may change)."""
    import av

    h, w = (d - d % 2 for d in frames[0][1].shape[:2])
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=round(rate), options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for image in _at_rate(frames, rate):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _at_rate(frames: FloatFrames, rate: float) -> Iterator[np.ndarray]:
    start, end = frames[0][0], frames[-1][0]
    times = np.array([t for t, _ in frames])
    for k in range(int((end - start) * rate) + 1):
        yield frames[int(np.searchsorted(times, start + k / rate, side="right")) - 1][1]


def synthetic_clip(photo: np.ndarray, seconds: float, rate: float, seed: int) -> FloatFrames:
    """A still photo filmed like an interview: slow zoom, small shake, sensor noise, 320x320."""
    import cv2

    rng = np.random.default_rng(seed)
    base = cv2.resize(photo, (320, 320), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    frames = []
    for k in range(int(seconds * rate)):
        zoom = 1.0 + 0.12 * k / (seconds * rate)
        shake = rng.normal(0, 1.5, 2)
        matrix = cv2.getRotationMatrix2D((160 + shake[0], 150 + shake[1]), 0, zoom)
        moved = cv2.warpAffine(base, matrix, (320, 320), borderMode=cv2.BORDER_REFLECT)
        noisy = moved + rng.normal(0, 3, moved.shape)
        frames.append((k / rate, np.clip(noisy, 0, 255).astype(np.uint8)))
    return frames


def _resize(image: np.ndarray, fx: float) -> np.ndarray:
    import cv2

    return cv2.resize(image, None, fx=fx, fy=fx, interpolation=cv2.INTER_AREA if fx < 1 else cv2.INTER_CUBIC)


def _crop(image: np.ndarray, side: float = 0.07) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = int(h * side), int(w * side)
    return image[dy:h - dy, dx:w - dx]


def _watermark(image: np.ndarray) -> np.ndarray:
    """A channel logo in the top right corner and a caption strip along the bottom."""
    import cv2

    out = image.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (int(w * 0.74), int(h * 0.03)), (int(w * 0.97), int(h * 0.13)), (230, 30, 30), -1)
    cv2.putText(out, "Z-KANAL", (int(w * 0.75), int(h * 0.11)), cv2.FONT_HERSHEY_SIMPLEX, w / 900, (255, 255, 255), 1)
    strip = out[int(h * 0.86):, :].astype(np.float32)
    out[int(h * 0.86):, :] = (strip * 0.4).astype(np.uint8)
    cv2.putText(out, "Plennye VSU rasskazali...", (int(w * 0.04), int(h * 0.95)), cv2.FONT_HERSHEY_SIMPLEX,
                w / 700, (255, 255, 255), 1)
    return out


def _letterbox(image: np.ndarray) -> np.ndarray:
    """Placed on a black 16:9 canvas, as a channel reposting to a landscape format does."""
    h, w = image.shape[:2]
    width = max(w, int(h * 16 / 9) + 1)
    canvas = np.zeros((h, width, 3), np.uint8)
    canvas[:, (width - w) // 2:(width - w) // 2 + w] = image
    return canvas


FRAME_EDITS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rescaled": lambda im: _resize(im, 0.5),
    "cropped": _crop,
    "watermarked": _watermark,
    "letterboxed": _letterbox,
}


def video_copies(original: Path, folder: Path) -> dict[str, Path]:
    """Re-encoded (15 fps, CRF 35), rescaled, cropped, watermarked, letterboxed and trimmed copies."""
    frames, rate = read_video(original)
    out = {"reencoded": write_video(folder / "reencoded.mp4", frames, 15.0, crf=35)}
    for name, edit in FRAME_EDITS.items():
        out[name] = write_video(folder / f"{name}.mp4", [(t, edit(im)) for t, im in frames], rate, crf=28)
    duration = frames[-1][0] - frames[0][0]
    kept = [(t, im) for t, im in frames if 0.2 * duration <= t - frames[0][0] <= 0.8 * duration]
    out["trimmed"] = write_video(folder / "trimmed.mp4", [(t - kept[0][0], im) for t, im in kept], rate, crf=28)
    return out


def photo_copies(photo: np.ndarray) -> dict[str, bytes]:
    """JPEG bytes of re-encoded (quality 30), rescaled, cropped, watermarked and letterboxed copies."""
    copies = {"reencoded": _jpeg(photo, 30)}
    copies.update({name: _jpeg(edit(photo), 80) for name, edit in FRAME_EDITS.items()})
    return copies


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality)
    return out.getvalue()
