"""Frame sampling on real encoded videos and photos, and refusal of bad input."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers.base import AnalysisError
from svidok.analyzers.frames import FrameOptions, SamplingStats, dhash, hamming, iter_frames, load_image

FPS = 25


def astronaut(size: tuple[int, int] = (320, 240), shift: int = 0) -> np.ndarray:
    """The astronaut photo (a real face) on a grey canvas, shifted right by `shift` pixels."""
    import cv2
    from skimage import data

    width, height = size
    canvas = np.full((height, width, 3), 90, np.uint8)
    side = min(height, width)
    face = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    x = (width - side) // 2 + shift
    canvas[:, max(0, x):x + side] = face[:, max(0, -x):side - max(0, x + side - width)]
    return canvas


def coffee(size: tuple[int, int] = (320, 240)) -> np.ndarray:
    import cv2
    from skimage import data

    return cv2.resize(data.coffee(), size, interpolation=cv2.INTER_AREA)


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = FPS) -> Path:
    """Encode RGB frames as H.264 MP4 with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height = image.shape[1], image.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"preset": "ultrafast"}
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def static_frames(seconds: float, make: Callable[[], np.ndarray] = astronaut) -> Iterable[np.ndarray]:
    """A still picture with a little sensor noise, as in a static interview."""
    base = make().astype(np.int16)
    rng = np.random.default_rng(0)
    for _ in range(int(seconds * FPS)):
        yield np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)


def png_header_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims an enormous picture."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_static_clip_costs_far_less_than_every_frame(tmp_path: Path) -> None:
    video = write_video(tmp_path / "static.mp4", static_frames(12))
    stats = SamplingStats()
    frames = list(iter_frames(video, None, FrameOptions(), stats))
    assert stats.decoded == 12 * FPS
    assert stats.candidates >= 24                # the 2 fps base rate asked for 24 frames ...
    assert 1 <= len(frames) <= 4                 # ... near-duplicates were dropped (one per MAX_SKIP_S)
    assert frames[0].time_s == pytest.approx(0.0)
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8


def test_scene_cut_is_picked_up_between_base_samples(tmp_path: Path) -> None:
    def clip() -> Iterable[np.ndarray]:
        yield from static_frames(2.1)
        yield from static_frames(2.0, coffee)

    video = write_video(tmp_path / "cut.mp4", clip())
    stats = SamplingStats()
    frames = list(iter_frames(video, "video/mp4", FrameOptions(base_fps=0.25), stats))
    times = [f.time_s for f in frames]
    assert stats.cut_times == [pytest.approx(2.08, abs=0.05)]
    assert [f.time_s for f in frames if f.cut] == stats.cut_times
    assert any(abs(t - 2.08) < 0.05 for t in times), times
    assert len(times) <= 4


def test_photo_is_one_frame_without_time(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "photo.jpg"
    Image.fromarray(astronaut()).save(path, quality=90)
    frames = list(iter_frames(path))
    assert len(frames) == 1 and frames[0].time_s is None
    assert frames[0].image.shape == (240, 320, 3)


def test_dhash_ignores_noise_but_not_a_different_picture() -> None:
    import cv2

    gray = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2GRAY)
    noisy = np.clip(gray.astype(np.int16) + np.random.default_rng(1).integers(-3, 4, gray.shape), 0, 255)
    other = cv2.cvtColor(coffee(), cv2.COLOR_RGB2GRAY)
    assert hamming(dhash(gray), dhash(noisy.astype(np.uint8))) <= 4
    assert hamming(dhash(gray), dhash(other)) > 12


@pytest.mark.parametrize("name,content,message", [
    ("notes.mp4", "это не видео, а текст\n".encode() * 50, "not an image or video"),
    ("empty.mp4", b"", "empty file"),
    ("bomb.png", png_header_bomb(100_000, 100_000), "image too large"),
    ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 300, "image"),
])
def test_bad_files_are_refused_quickly(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(AnalysisError, match=message):
        list(iter_frames(path))
    assert time.monotonic() - started < 2


def test_truncated_and_oversized_videos_are_refused(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ok.mp4", static_frames(1))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(AnalysisError, match="video"):
        list(iter_frames(truncated))
    with pytest.raises(AnalysisError, match="video too large: 320x240"):
        list(iter_frames(video, None, FrameOptions(max_pixels=50_000)))


def test_audio_only_file_is_refused(tmp_path: Path) -> None:
    import wave

    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 16000)
    with pytest.raises(AnalysisError, match="audio only"):
        list(iter_frames(path))


def test_long_video_is_cut_at_max_seconds(tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", static_frames(3))
    stats = SamplingStats()
    frames = list(iter_frames(video, None, FrameOptions(max_seconds=1.0, duplicate_hash_distance=-1), stats))
    assert stats.truncated and "max_seconds" in stats.truncated
    assert max(f.time_s for f in frames) <= 1.0 and stats.decoded <= FPS + 2


def test_load_image_refuses_a_bomb_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_bomb(20_000, 20_000))
    with pytest.raises(AnalysisError, match="too large"):
        load_image(path)
    with pytest.raises(AnalysisError, match="too large"):
        load_image(path, max_pixels=1_000)


def test_cheap_thumbnail_matches_a_full_conversion(tmp_path: Path) -> None:
    import av
    import cv2

    from svidok.analyzers.frames import THUMB, thumbnail

    video = write_video(tmp_path / "odd.mp4", [coffee((330, 250))] * 3)   # width not a multiple of 32
    with av.open(str(video)) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "yuv420p"
        cheap = thumbnail(frame)
        full = cv2.resize(frame.to_ndarray(format="rgb24"), (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    assert cheap.shape == (THUMB, THUMB, 3) and cheap.dtype == np.uint8
    assert float(np.abs(cheap.astype(int) - full.astype(int)).mean()) < 3
