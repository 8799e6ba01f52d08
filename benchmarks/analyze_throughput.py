"""Analysis throughput: seconds of footage analyzed per wall-clock second, and peak memory.

Two generated clips (H.264, 960x540, 25 fps, AAC 16 kHz mono audio of near-continuous Russian
speech: the two demo clips svidok/demo/assets/*.ogg in a loop with 1.5 s pauses):
- talking head: 5 minutes of the astronaut portrait (skimage) nodding a few pixels: the
  static-interview case frame sampling is built for;
- multi-face: 1 minute of three moving faces (the portrait, mirrored and tinted copies) with
  a cut every 10 s.

Each clip runs once per face policy (`face_full_scan_every` 1 = every sampled frame searched
in full, the old behaviour; the default = focused search between full ones; `face_embed_every`
1 = every face embedded, the default = a face staying in place only every 3rd sampled frame;
1 or 2 worker processes), as the faces analyzer runs it (frames -> ScanPlan -> detect_faces),
split into decode+sampling, detection and landmarks+embedding; then it is transcribed as the speech analyzer does (language given,
no hotwords) at the configured beam size and, for comparison, at beam 1. Finally the real
pipeline runs on each clip as `svidok analyze` does (`run_analysis` with the default analyzers
in a fresh workspace, source language set): faces in this thread and speech in a background
thread at the same time, crops, frames and database writes included — the end-to-end figure.
Goal: >= 4x real time end to end. Peak memory is the process's maximum resident set size.

Usage: .venv/bin/python benchmarks/analyze_throughput.py [--short] [--no-speech]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from svidok.analyzers import faces as faces_module  # noqa: E402
from svidok.analyzers.face_analyzer import faces_in_frames  # noqa: E402
from svidok.analyzers.faces import FaceModels, FaceOptions  # noqa: E402
from svidok.analyzers.frames import FrameOptions, SamplingStats, iter_frames  # noqa: E402
from svidok.foundation.settings import AnalyzeSettings  # noqa: E402

FPS, WIDTH, HEIGHT = 25, 960, 540


@dataclass
class Timing:
    clip: str
    seconds: float
    policy: str = ""
    stats: SamplingStats = field(default_factory=SamplingStats)
    decode: float = 0.0
    detect: float = 0.0
    embed: float = 0.0
    faces: int = 0
    embedded: int = 0
    wall: float = 0.0


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


SHARED_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech" / "uk" / "audio"


def speech_track(seconds: float) -> tuple[np.ndarray, str]:
    """16 kHz float32 speech and its language: the 36 distinct Ukrainian clips of the shared data
    set one after another (no repeats up to ~700 s), else the two demo clips in a loop (repeated
    text makes Whisper fall back to sampling, so that variant overstates transcription time)."""
    from svidok.analyzers.speech import SAMPLE_RATE, load_audio

    total = int(seconds * SAMPLE_RATE)
    files, language = sorted(SHARED_SPEECH.glob("*/*.flac")), "uk"
    if not files:
        demo = Path(__file__).resolve().parents[1] / "svidok" / "demo" / "assets"
        files, language = [demo / "captive_ru.ogg", demo / "other_ru.ogg"], "ru"
    gap = np.zeros(int(0.7 * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = []
    while sum(p.size for p in parts) < total:
        for path in files:
            parts += [load_audio(path, 600), gap]
    return np.concatenate(parts)[:total], language


def write_clip(path: Path, frames: Iterator[np.ndarray], seconds: float) -> Path:
    """H.264 video plus AAC speech, muxed with PyAV."""
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
        samples, _language = speech_track(seconds)
        for start in range(0, len(samples), 1024):
            chunk = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 16000, start
            out.mux(audio.encode(chunk))
        out.mux(audio.encode())
    return path


def time_faces(path: Path, name: str, seconds: float, settings: AnalyzeSettings) -> Timing:
    """Frames -> faces_in_frames (scan plan, worker processes) as FaceAnalyzer runs them, timed per
    stage; with workers, detect and embed are the workers' CPU seconds and decode is the rest."""
    timing = Timing(name, seconds, f"full every {settings.face_full_scan_every}, embed every "
                                   f"{settings.face_embed_every}, {settings.face_workers} proc")
    options = FaceOptions.from_settings(settings)
    frames = iter_frames(path, "video/mp4", FrameOptions.from_settings(settings), timing.stats)
    faces_module.stage_seconds.update(detect=0.0, embed=0.0)
    started = time.perf_counter()
    for _frame, found in faces_in_frames(frames, options, settings.face_workers):
        timing.faces += len(found)
        timing.embedded += sum(face.embedding is not None for face in found)
    timing.wall = time.perf_counter() - started
    timing.detect, timing.embed = faces_module.stage_seconds["detect"], faces_module.stage_seconds["embed"]
    timing.decode = max(0.0, timing.wall - timing.detect - timing.embed)
    return timing


def time_speech(path: Path, settings: AnalyzeSettings, beam_size: int) -> float:
    """Seconds to transcribe the clip (the model is loaded before the timing starts)."""
    from dataclasses import replace

    from svidok.analyzers.speech import SpeechOptions, model, transcribe

    options = replace(SpeechOptions.from_settings(settings), beam_size=beam_size)
    model(options.cpu_threads).loaded
    started = time.perf_counter()
    transcript = transcribe(path, language=speech_track(0.01)[1], options=options)
    elapsed = time.perf_counter() - started
    print(f"  beam {beam_size}: {len(transcript.segments)} segments in {elapsed:.1f} s", file=sys.stderr)
    return elapsed


def time_pipeline(path: Path, seconds: float, language: str) -> tuple[float, dict[str, int]]:
    """Wall seconds of `run_analysis` with the default analyzers on the clip, in a fresh workspace."""
    from svidok.collectors.local_files import LocalFiles
    from svidok.foundation.settings import Settings
    from svidok.foundation.workspace import Workspace
    from svidok.pipeline import run_analysis, run_collector

    settings = Settings()
    settings = replace(settings, analyze=replace(settings.analyze, speech_default_language=language))
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws", settings)
        try:
            run_collector(ws, LocalFiles([path]))
            from svidok.analyzers.registry import default_analyzers

            started = time.perf_counter()
            analysis = run_analysis(ws, default_analyzers())
            elapsed = time.perf_counter() - started
        finally:
            ws.close()
    assert not analysis.errors, analysis.errors
    return elapsed, analysis.counts


def report(rows: list[Timing], speech: dict[tuple[str, int], float], beam: int) -> None:
    print(f"| clip | face policy | footage s | frames decoded / kept | faces found / embedded | decode s | detect s | embed s "
          f"| faces wall s | x real time (faces) | transcribe s (beam {beam} / 1) | x real time end to end (beam {beam} / 1) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        faces_only = r.wall
        s_beam, s_one = speech.get((r.clip, beam)), speech.get((r.clip, 1))
        if s_beam is None:
            spoken, total = "n/a", "n/a"
        else:
            spoken = f"{s_beam:.1f} / {s_one:.1f}"
            total = f"{r.seconds / (faces_only + s_beam):.1f}x / {r.seconds / (faces_only + s_one):.1f}x"
        print(f"| {r.clip} | {r.policy} | {r.seconds:.0f} | {r.stats.decoded} / {r.stats.kept} | {r.faces} / {r.embedded} "
              f"| {r.decode:.1f} | {r.detect:.1f} | {r.embed:.1f} | {r.wall:.1f} | {r.seconds / faces_only:.1f}x | {spoken} "
              f"| {total} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory (max RSS, models loaded): this process {peak:.0f} MiB, largest face worker "
          f"{child:.0f} MiB (shares the models with it copy-on-write); "
          f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="1-minute and 20-second clips (quick check)")
    parser.add_argument("--no-speech", action="store_true", help="skip transcription even if available")
    args = parser.parse_args(argv)
    clips = [("talking head", talking_head, 60.0 if args.short else 300.0),
             ("multi-face", multi_face, 20.0 if args.short else 60.0)]
    settings = AnalyzeSettings()
    policies = [replace(settings, face_full_scan_every=1, face_embed_every=1, face_workers=1),
                replace(settings, face_embed_every=1, face_workers=1), replace(settings, face_workers=1),
                replace(settings, face_workers=2)]
    FaceModels.shared().loaded
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    rows, speech, pipeline = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, seconds in clips:
            path = write_clip(Path(tmp) / f"{name.replace(' ', '_')}.mp4", make(seconds), seconds)
            print(f"{name}: {seconds:.0f} s clip written, analyzing", file=sys.stderr)
            rows.extend(time_faces(path, name, seconds, policy) for policy in policies)
            if not args.no_speech:
                for beam in dict.fromkeys((settings.speech_beam_size, 1)):
                    speech[(name, beam)] = time_speech(path, settings, beam)
                pipeline[name] = (seconds, *time_pipeline(path, seconds, speech_track(0.01)[1]))
    report(rows, speech, settings.speech_beam_size)
    if pipeline:
        print("\n| clip | footage s | run_analysis wall s (faces + speech threads, writes) | x real time end to end "
              "| faces stored | tracks | transcript segments |\n|---|---|---|---|---|---|---|")
        for name, (seconds, wall, counts) in pipeline.items():
            print(f"| {name} | {seconds:.0f} | {wall:.1f} | {seconds / wall:.1f}x | {counts.get('faces', 0)} "
                  f"| {counts.get('tracks', 0)} | {counts.get('transcripts', 0)} |")


if __name__ == "__main__":
    main()
