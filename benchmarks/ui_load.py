"""Review UI under load: queue and comparison pages with 100,000 sightings in the database,
20 concurrent clients on loopback, while one analysis process writes; on SQLite and on
PostgreSQL side by side in one run. Prints a markdown table of p50/p95 latency per backend
(goal p95 < 150 ms).

The server is the real `svidok serve` in its own process; each client logs in as its own
reviewer and alternates between the queue page and the comparison page of a random sighting
(every comparison view is written to the audit log, as in real use). The writer is the real
`svidok analyze --reanalyze` over --analysis-files small photos, run again and again until the
clients are done (each file: its analysis computed outside any transaction, then stored in one).

    .venv/bin/python benchmarks/ui_load.py [--sightings 100000] [--clients 20] [--requests 50]
        [--analysis-files 40] [--postgresql postgresql://postgres@127.0.0.1:5432/test]  # "" = SQLite only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from svidok.foundation.clock import utc_now  # noqa: E402
from svidok.foundation.settings import DatabaseSettings, load_settings  # noqa: E402
from svidok.foundation.workspace import Workspace  # noqa: E402
from tests.factories import jpeg_bytes  # noqa: E402
from tests.postgresql import PostgreSQLServer  # noqa: E402

PASSWORD = "benchmark password 0123"


def seed(ws: Workspace, n_sightings: int, n_clients: int) -> None:
    """Persons, posts, media rows and `n_sightings` pending candidate sightings, in bulk."""
    from svidok.cases.users import add_user

    now, rng = utc_now(), random.Random(7)
    conn = ws.conn
    conn.begin()                            # a fresh database: the ids come out as 1, 2, 3 ...
    conn.executemany("INSERT INTO person (name, created_at) VALUES (?, ?)",
                     [(f"Person {i}", now) for i in range(1, 501)])
    conn.executemany("INSERT INTO item (source_kind, source_id, channel, url, posted_at, collected_at, text,"
                     " collector, collector_version) VALUES ('telegram', ?, ?, ?, ?, ?, ?, 'bench', '1')",
                     [(str(i), f"chan{i % 40}", f"https://t.me/chan{i % 40}/{i}",
                       f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00", now, f"post {i} " * 20)
                      for i in range(1, 10_001)])
    conn.executemany("INSERT INTO media (sha256, size, mime, ext, first_seen, path) VALUES (?, 1, 'video/mp4',"
                     " 'mp4', ?, ?)", [(f"{i:064x}", now, f"media/{i:064x}.mp4") for i in range(1, 2001)])
    reasons = json.dumps([{"kind": "face", "distance": 0.45, "score": 0.7, "frames": 4},
                          {"kind": "name", "text": "Person", "time": 3.0, "field": "transcript"}])
    conn.executemany(
        "INSERT INTO sighting (person_id, media_sha256, item_id, span_start_s, span_end_s, key, score, reasons,"
        " status, created_at, updated_at) VALUES (?, ?, ?, 3.0, 6.0, ?, ?, ?, 'pending', ?, ?)",
        [(1 + i % 500, f"{1 + i % 2000:064x}", 1 + i % 10_000, f"k{i}", rng.random(), reasons, now, now)
         for i in range(n_sightings)])
    conn.commit()
    for c in range(n_clients):
        add_user(ws, f"reviewer{c}", "reviewer", PASSWORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def login(client, name: str) -> None:
    async with client.get("/login") as page:
        token = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
    async with client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token},
                           allow_redirects=False) as response:
        assert response.status in (200, 303), (await response.text())[:200]


async def run_client(client, name: str, n: int, n_sightings: int, times: dict[str, list[float]]) -> None:
    rng = random.Random(name)
    for _ in range(n):
        for kind, path in (("queue", "/queue"), ("comparison", f"/sightings/{rng.randint(1, n_sightings)}")):
            start = time.perf_counter()
            async with client.get(path) as response:
                await response.read()
            times[kind].append((time.perf_counter() - start) * 1000)
            assert response.status == 200, (path, response.status)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def load(base: str, args: argparse.Namespace) -> tuple[dict[str, list[float]], float]:
    """Log every client in first (argon2 is slow on purpose), then measure the pages only.

    Each client is an aiohttp session (its own cookie jar, one keep-alive connection). aiohttp parses
    HTTP in C: the load generator shares the 2 cores with the server, and httpx spent about as much
    CPU per request as the server itself, time that showed up as server latency."""
    import aiohttp

    times: dict[str, list[float]] = {"queue": [], "comparison": []}
    clients = [aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for an IP
                                     connector=aiohttp.TCPConnector(limit=1), timeout=aiohttp.ClientTimeout(60))
               for _ in range(args.clients)]
    try:
        await asyncio.gather(*(login(c, f"reviewer{i}") for i, c in enumerate(clients)))
        start = time.perf_counter()
        await asyncio.gather(*(run_client(c, f"reviewer{i}", args.requests, args.sightings, times)
                               for i, c in enumerate(clients)))
        return times, time.perf_counter() - start
    finally:
        for c in clients:
            await c.close()


def run_backend(tmp: Path, args: argparse.Namespace, backend: str, url: str) -> tuple[dict, float, int]:
    """Seed, serve, write and load one backend; the latencies, the wall time and the analysis runs."""
    settings = load_settings(environ={})
    env = {**os.environ, "PYTHONPATH": str(REPO), "SVIDOK_DATABASE_URL": url}
    if url:
        import dataclasses

        settings = dataclasses.replace(settings, database=DatabaseSettings(url=url))
    root = tmp / f"ws-{backend}"
    with Workspace.create(root, settings) as ws:
        t0 = time.perf_counter()
        seed(ws, args.sightings, args.clients)
        print(f"{backend}: seeded {args.sightings:,} sightings in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    photos = tmp / f"photos-{backend}"
    photos.mkdir()
    for i in range(args.analysis_files):
        (photos / f"p{i}.jpg").write_bytes(jpeg_bytes(i, (320, 240)))
    if args.analysis_files:
        subprocess.run([sys.executable, "-m", "svidok.cli", "ingest", "files", str(photos), "--workspace", str(root)],
                       cwd=REPO, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "svidok.cli", "serve", "--workspace", str(root), "--port",
                               str(port)], cwd=REPO, env=env)
    runs, done = [0], [False]

    def analyse_until_done() -> None:
        while not done[0]:
            result = subprocess.run([sys.executable, "-m", "svidok.cli", "analyze", "--reanalyze", "--workspace",
                                     str(root)], cwd=REPO, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"the analysis run failed: {result.stderr[-500:]}")
            runs[0] += 1

    import threading

    writer = threading.Thread(target=analyse_until_done)
    try:
        wait_for(port)
        if args.analysis_files:
            writer.start()
            time.sleep(3)                               # the writer past its model loading
        times, wall = asyncio.run(load(f"http://127.0.0.1:{port}", args))
    finally:
        done[0] = True
        if writer.is_alive():
            writer.join(300)
        server.terminate()
        server.wait(10)
    return times, wall, runs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sightings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="queue+comparison pairs per client")
    parser.add_argument("--analysis-files", type=int, default=40,
                        help="photos the concurrent analysis re-analyses (0: no analysis meanwhile)")
    parser.add_argument("--postgresql", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server (a database on it to connect to first); empty: SQLite only")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results["SQLite"] = run_backend(tmp, args, "sqlite", "")
        if args.postgresql:
            server = PostgreSQLServer(args.postgresql)
            url = server.create_empty()
            try:
                results["PostgreSQL"] = run_backend(tmp, args, "postgresql", url)
            finally:
                server.drop(url)
    print("| backend | page | requests | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|")
    for backend, (times, _, _) in results.items():
        for kind, values in times.items():
            print(f"| {backend} | {kind} | {len(values)} | {pct(values, 50):.1f} | {pct(values, 95):.1f} |"
                  f" {max(values):.1f} |")
    for backend, (times, wall, runs) in results.items():
        total = sum(len(v) for v in times.values())
        print(f"\n{backend}: {args.clients} clients, {args.sightings:,} sightings: {total} requests in {wall:.1f} s"
              f" ({total / wall:.0f} req/s), {runs} analysis runs over {args.analysis_files} photos meanwhile")


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
