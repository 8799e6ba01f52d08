"""Analysis throughput: seconds of footage analyzed per wall-clock second, and peak memory.

Two generated clips (H.264, 960x540, 25 fps, AAC audio):
- talking head: 5 minutes of the astronaut portrait (skimage) nodding a few pixels, with a
  quiet tone as audio: the static-interview case frame sampling is built for;
- multi-face: 1 minute of three moving faces (the portrait, mirrored and tinted copies) with
  a cut every 10 s.

For each clip the face path runs as `svidok analyze` runs it (frames -> detect -> embed) and
the time is split into decode+sampling, detection (HOG and fallbacks) and landmarks+
embedding. When `analyzers.speech.SpeechAnalyzer` exists, the clip is also transcribed and
timed. Goal: >= 4x real time. Peak memory is the process's maximum resident set size.

Usage: .venv/bin/python benchmarks/analyze_throughput.py [--short] [--no-speech]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from analyzers.faces import FaceModels, FaceOptions, _describe, _find_boxes, _working_image  # noqa: E402
from analyzers.frames import FrameOptions, SamplingStats, iter_frames  # noqa: E402
from core.settings import AnalyzeSettings  # noqa: E402

FPS, WIDTH, HEIGHT = 25, 960, 540


@dataclass
class Timing:
    clip: str
    seconds: float
    stats: SamplingStats = field(default_factory=SamplingStats)
    decode: float = 0.0
    detect: float = 0.0
    embed: float = 0.0
    transcribe: float | None = None
    faces: int = 0

    @property
    def total(self) -> float:
        return self.decode + self.detect + self.embed + (self.transcribe or 0.0)


def portrait() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[20:260, 110:330])


def talking_head(seconds: float) -> Iterator[np.ndarray]:
    face = portrait()
    noise = [np.random.default_rng(i).integers(-2, 3, (240, 220, 3)) for i in range(4)]
    for i in range(int(seconds * FPS)):
        t = i / FPS
        canvas = np.full((HEIGHT, WIDTH, 3), 70, np.uint8)
        dy, dx = round(3 * np.sin(2 * np.pi * 0.4 * t)), round(2 * np.sin(2 * np.pi * 0.15 * t))
        patch = np.clip(face + noise[i % 4], 0, 255).astype(np.uint8)
        canvas[150 + dy:390 + dy, 370 + dx:590 + dx] = patch
        yield canvas


def multi_face(seconds: float) -> Iterator[np.ndarray]:
    face = portrait()
    people = [face, face[:, ::-1], np.clip(face * np.array([1.1, 0.9, 0.8]), 0, 255).astype(np.uint8)]
    for i in range(int(seconds * FPS)):
        t = i / FPS
        shot = int(t // 10)
        canvas = np.full((HEIGHT, WIDTH, 3), (40 + 30 * (shot % 3), 60, 90 - 20 * (shot % 2)), np.uint8)
        for k, person in enumerate(people):
            x = int(40 + k * 300 + 30 * np.sin(0.5 * t + k + shot))
            y = int(150 + 40 * np.cos(0.3 * t + 2 * k))
            canvas[y:y + 240, x:x + 220] = person
        yield canvas


def write_clip(path: Path, frames: Iterator[np.ndarray], seconds: float) -> Path:
    """H.264 video plus an AAC 220 Hz tone, muxed with PyAV."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "23"}
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for image in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())
        samples = (0.05 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * 16000)) / 16000)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 16000, start
            out.mux(audio.encode(chunk))
        out.mux(audio.encode())
    return path


def time_faces(path: Path, name: str, seconds: float, settings: AnalyzeSettings) -> Timing:
    """Frames -> detect -> embed, timed per stage (the same steps detect_faces runs)."""
    timing = Timing(name, seconds)
    model = FaceModels.shared().loaded
    options = FaceOptions.from_settings(settings)
    frames = iter_frames(path, "video/mp4", FrameOptions.from_settings(settings), timing.stats)
    while True:
        started = time.perf_counter()
        frame = next(frames, None)
        timing.decode += time.perf_counter() - started
        if frame is None:
            return timing
        started = time.perf_counter()
        work, scale = _working_image(frame.image, options)
        rects = _find_boxes(model, work, options)
        timing.detect += time.perf_counter() - started
        started = time.perf_counter()
        timing.faces += len([_describe(model, frame.image, work, scale, r, options) for r in rects])
        timing.embed += time.perf_counter() - started


def time_speech(path: Path, timing: Timing) -> None:
    try:
        from analyzers.speech import SpeechAnalyzer, transcribe  # noqa: F401
    except ImportError:
        return
    transcribe(path, language="ru")                   # load the model outside the timing
    started = time.perf_counter()
    transcribe(path, language="ru")
    timing.transcribe = time.perf_counter() - started


def report(rows: list[Timing]) -> None:
    print("| clip | footage s | frames decoded / kept | faces | decode s | detect s | embed s | transcribe s "
          "| x real time (faces) | x real time (all) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        faces_only = r.decode + r.detect + r.embed
        speech = "n/a" if r.transcribe is None else f"{r.transcribe:.1f}"
        print(f"| {r.clip} | {r.seconds:.0f} | {r.stats.decoded} / {r.stats.kept} | {r.faces} | {r.decode:.1f} "
              f"| {r.detect:.1f} | {r.embed:.1f} | {speech} | {r.seconds / faces_only:.1f}x "
              f"| {r.seconds / r.total:.1f}x |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS of the process): {peak:.0f} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="1-minute and 20-second clips (quick check)")
    parser.add_argument("--no-speech", action="store_true", help="skip transcription even if available")
    args = parser.parse_args(argv)
    clips = [("talking head", talking_head, 60.0 if args.short else 300.0),
             ("multi-face", multi_face, 20.0 if args.short else 60.0)]
    settings = AnalyzeSettings()
    FaceModels.shared().loaded
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, seconds in clips:
            path = write_clip(Path(tmp) / f"{name.replace(' ', '_')}.mp4", make(seconds), seconds)
            print(f"{name}: {seconds:.0f} s clip written, analyzing", file=sys.stderr)
            timing = time_faces(path, name, seconds, settings)
            if not args.no_speech:
                time_speech(path, timing)
            rows.append(timing)
    report(rows)


if __name__ == "__main__":
    main()
