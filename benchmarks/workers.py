"""Workers: throughput of the task queue beside the in-process path, and the cost of one task.

1. Throughput: the same set of short clips (the demo's two speakers, a face on camera and
   Russian speech, each clip padded with a different silence so every file differs) is
   analyzed three ways, each in a fresh workspace, cold (models loaded as part of the run):
   - in-process: `svidok analyze` (faces in the main thread, speech in a background thread);
   - 1 worker process: `svidok analyze --enqueue`, one `svidok worker --concurrency 1`;
   - 2 worker processes: `svidok analyze --enqueue`, one `svidok worker --concurrency 2`.
   Wall time runs from the command (or the enqueue) to the last `analysis` row; the figure is
   media-seconds analyzed per wall second.
2. Task overhead: tiny JPEGs sent one at a time to one warm worker (models loaded), each
   waited for (enqueue → result in the result backend); the same files analyzed in this
   process with warm models give the work itself. Then the same tasks again: every analyzer
   has done the file, so the task only looks that up: its round trip is the queue's own cost.

Needs a Redis with an empty database: --broker (default redis://127.0.0.1:6379/15); the
database is emptied at the end.

Usage: .venv/bin/python benchmarks/workers.py [--clips 6] [--tiny 40] [--broker URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from svidok.foundation.workspace import Workspace


def svidok(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "svidok.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"svidok {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def make_clips(folder: Path, n: int) -> float:
    """n clips; returns their total duration in seconds."""
    import av

    from svidok.demo.material import astronaut, grace_hopper, make_clip, speech_asset

    folder.mkdir(parents=True)
    total = 0.0
    for i in range(n):
        person, speech = ((astronaut().crop((60, 0, 400, 340)), "captive_ru") if i % 2 == 0 else
                          (grace_hopper().crop((40, 60, 480, 500)), "other_ru"))
        path = make_clip(folder / f"clip_{i}.mp4", person, speech_asset(speech), seed=100 + i, lead_in_s=0.5 + 0.25 * i)
        with av.open(str(path)) as container:
            total += float(container.duration or 0) / 1_000_000
    return total


def make_tiny(folder: Path, n: int) -> None:
    from tests.factories import jpeg_bytes

    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"tiny_{i}.jpg").write_bytes(jpeg_bytes(5000 + i, (48, 36)))


def analyses_left(root: Path) -> int:
    from svidok.analyzers.registry import default_analyzers
    from svidok.pipeline.analyze import pending_media

    with Workspace.open(root) as ws:
        return sum(len(pending_media(ws, a)) for a in default_analyzers())


def start_worker(env: dict[str, str], log: Path, concurrency: int) -> subprocess.Popen:
    handle = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "svidok.cli", "worker", "--concurrency", str(concurrency)],
                            env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while " ready." not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def fresh(base: dict[str, str], work: Path, name: str, media: Path) -> dict[str, str]:
    env = {**base, "SVIDOK_WORKSPACE": str(work / name)}
    svidok(env, "init")
    svidok(env, "ingest", "files", str(media))
    return env


def throughput(base: dict[str, str], work: Path, clips: Path, media_s: float) -> list[tuple[str, float]]:
    rows = []
    env = fresh(base, work, "inprocess", clips)
    start = time.perf_counter()
    svidok(env, "analyze")
    rows.append(("in-process (svidok analyze)", time.perf_counter() - start))
    for processes in (1, 2):
        env = fresh(base, work, f"workers{processes}", clips)
        worker = start_worker(env, work / f"worker{processes}.log", processes)
        try:
            start = time.perf_counter()
            svidok(env, "analyze", "--enqueue")
            while analyses_left(Path(env["SVIDOK_WORKSPACE"])):
                time.sleep(0.2)
            rows.append((f"{processes} worker process(es) (svidok worker --concurrency {processes})",
                         time.perf_counter() - start))
        finally:
            stop_worker(worker)
    for label, wall in rows:
        print(f"  {label:<58} {wall:7.1f} s wall  {media_s / wall:5.2f} media-s per wall-s")
    footprint(work / "inprocess", media_s)
    return rows


def footprint(root: Path, media_s: float) -> None:
    """What analysis leaves behind per media-second: rows, database bytes, derived files (for the paper estimate)."""
    with Workspace.open(root) as ws:
        counts = {t: ws.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("face", "track", "transcript_segment", "artifact", "analysis", "media_phash")}
    database = sum(p.stat().st_size for p in root.glob("svidok.db*"))
    derived = sum(p.stat().st_size for p in (root / "derived").rglob("*") if p.is_file())
    media = sum(p.stat().st_size for p in (root / "media").rglob("*") if p.is_file())
    per = {k: v / media_s for k, v in counts.items()}
    print("  per media-second analyzed: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items())
          + f"; database {database / media_s / 1024:.1f} KiB, derived files {derived / media_s / 1024:.1f} KiB,"
          f" media {media / media_s / 1024:.1f} KiB")


def overhead(base: dict[str, str], work: Path, tiny: Path, n: int) -> None:
    from svidok.analyzers.registry import default_analyzers
    from svidok.foundation.settings import load_settings
    from svidok.pipeline.analyze import analyze_one, media_file
    from svidok.pipeline.tasks import ANALYZE, make_app

    env = fresh(base, work, "tiny-worker", tiny)
    local = fresh(base, work, "tiny-local", tiny)
    with Workspace.open(Path(local["SVIDOK_WORKSPACE"])) as ws:
        shas = [r[0] for r in ws.conn.execute("SELECT sha256 FROM media ORDER BY first_seen")]
        analyzers = default_analyzers()
        in_process = []
        for sha in shas:
            media = media_file(ws, sha)
            start = time.perf_counter()
            for analyzer in analyzers:
                if analyzer.wants(media):
                    analyze_one(ws, analyzer, media)
            in_process.append(time.perf_counter() - start)
    app = make_app(load_settings(None, env).broker)
    worker = start_worker(env, work / "tiny-worker.log", 1)
    try:
        app.send_task(ANALYZE, args=[shas[0], False]).get(timeout=120)           # warm: models loaded
        round_trips = []
        for sha in shas[1:]:
            start = time.perf_counter()
            app.send_task(ANALYZE, args=[sha, False]).get(timeout=60)
            round_trips.append(time.perf_counter() - start)
        empty_trips = []                         # again: every analyzer has done the file, the task only checks
        for sha in shas[1:]:
            start = time.perf_counter()
            app.send_task(ANALYZE, args=[sha, False]).get(timeout=60)
            empty_trips.append(time.perf_counter() - start)
    finally:
        stop_worker(worker)
    work_s, trip_s = statistics.median(in_process[1:]), statistics.median(round_trips)
    p95 = sorted(round_trips)[int(0.95 * (len(round_trips) - 1))]
    print(f"  tiny JPEG, {len(round_trips)} tasks one at a time: enqueue -> result median {trip_s * 1000:.0f} ms"
          f" (p95 {p95 * 1000:.0f} ms); the same work in-process (warm) median {work_s * 1000:.0f} ms;"
          f" difference {(trip_s - work_s) * 1000:+.0f} ms")
    print(f"  a task with nothing left to do (file already analyzed): enqueue -> result median"
          f" {statistics.median(empty_trips) * 1000:.1f} ms: the queue's own cost per task")


def main() -> None:
    import redis

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--tiny", type=int, default=40)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    client = redis.Redis.from_url(args.broker)
    if client.dbsize():
        raise SystemExit(f"{args.broker} is not empty; give --broker an empty database")
    base = {**os.environ, "SVIDOK_BROKER_URL": args.broker, "SVIDOK_CONFIG": "/nonexistent"}
    try:
        with tempfile.TemporaryDirectory(prefix="svidok-workers-") as tmp:
            work = Path(tmp)
            media_s = make_clips(work / "clips", args.clips)
            make_tiny(work / "tiny", args.tiny)
            print(f"{args.clips} clips, {media_s:.1f} media-seconds in all; {os.cpu_count()} CPU cores")
            throughput(base, work, work / "clips", media_s)
            overhead(base, work, work / "tiny", args.tiny)
    finally:
        client.flushdb()


if __name__ == "__main__":
    main()
