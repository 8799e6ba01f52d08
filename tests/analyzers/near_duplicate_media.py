"""Real photos and clips for near-duplicate tests, and the copies channels make of them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

FPS = 25


def picture(name: str) -> np.ndarray:
    """A real photograph shipped with scikit-image (astronaut, coffee, chelsea, rocket...)."""
    from skimage import data

    image = getattr(data, name)()
    return np.ascontiguousarray(image[..., :3])


def pan(image: np.ndarray, seconds: float, fps: int = FPS, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """A camera slowly panning and zooming over a photograph, with sensor noise: moving footage."""
    import cv2

    rng, frames, (w, h) = np.random.default_rng(1), [], size
    for k in range(int(seconds * fps)):
        zoom = 1.4 - 0.2 * k / (seconds * fps)
        centre = (image.shape[1] * (0.4 + 0.2 * k / (seconds * fps)), image.shape[0] * 0.45)
        matrix = cv2.getRotationMatrix2D(centre, 0, zoom)
        matrix[:, 2] += (w / 2 - centre[0], h / 2 - centre[1])
        frame = cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REFLECT).astype(np.int16)
        frames.append(np.clip(frame + rng.integers(-3, 4, frame.shape), 0, 255).astype(np.uint8))
    return frames


def write_clip(path: Path, frames: list[np.ndarray], fps: int = FPS, crf: int = 23) -> Path:
    """H.264 MP4 written with PyAV."""
    import av

    h, w = (d - d % 2 for d in frames[0].shape[:2])
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]),
                                                                   format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def letterbox(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    width = int(h * 16 / 9) + 1 if w < h * 16 / 9 else w
    height = int(width * 9 / 16) + 1 if width == w else h
    canvas = np.zeros((max(h, height), width, 3), np.uint8)
    top, left = (canvas.shape[0] - h) // 2, (width - w) // 2
    canvas[top:top + h, left:left + w] = image
    return canvas


def crop(image: np.ndarray, side: float = 0.06) -> np.ndarray:
    h, w = image.shape[:2]
    return image[int(h * side):h - int(h * side), int(w * side):w - int(w * side)]


def watermark(image: np.ndarray) -> np.ndarray:
    """A channel logo in a corner and a caption strip at the bottom."""
    import cv2

    out = image.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (int(w * 0.75), int(h * 0.03)), (int(w * 0.97), int(h * 0.12)), (220, 20, 20), -1)
    out[int(h * 0.88):] = (out[int(h * 0.88):] * 0.4).astype(np.uint8)
    cv2.putText(out, "Z-KANAL: plennye", (int(w * 0.05), int(h * 0.96)), cv2.FONT_HERSHEY_SIMPLEX, w / 800,
                (255, 255, 255), 1)
    return out


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
