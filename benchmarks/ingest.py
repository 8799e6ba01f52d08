"""Ingest throughput: posts/s for a generated 50,000-message Telegram Desktop export, on SQLite
and (side by side, in the same run) on PostgreSQL, and MB/s for archiving (hashing + copying)
media files.

    .venv/bin/python benchmarks/ingest.py [--messages 50000] [--media-mb 256]
        [--postgresql postgresql://postgres@127.0.0.1:5432/test]   # "" = SQLite only

Prints a markdown table. Goal: >= 1,000 posts/s on both. A fresh PostgreSQL database is created
on that server for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.collectors.tdesktop_export import TelegramDesktopExport  # noqa: E402
from svidok.foundation.store import sha256_file  # noqa: E402
from svidok.foundation.settings import DatabaseSettings, Settings, load_settings  # noqa: E402
from svidok.foundation.workspace import Workspace  # noqa: E402
from svidok.pipeline import run_collector  # noqa: E402
from tests.factories import message, write_export  # noqa: E402
from tests.postgresql import PostgreSQLServer  # noqa: E402


def build_export(folder: Path, n: int) -> Path:
    texts = ["Пленный назвал себя: Петренко Александр, 36 бригада.", "Видео с допросом, смотрите до конца.",
             ["Источник: ", {"type": "link", "text": "https://example.org/post"}, " — подробности."]]
    messages = [message(i, texts[i % 3], views=i * 3) for i in range(1, n + 1)]
    return write_export(folder, messages)


def bench_posts(tmp: Path, export: Path, n: int, settings: Settings, name: str) -> tuple[float, float]:
    with Workspace.create(tmp / f"ws-posts-{name}", settings) as ws:
        started = time.perf_counter()
        report = run_collector(ws, TelegramDesktopExport(export))
        first = time.perf_counter() - started
        assert report.items == n, report.as_dict()
        started = time.perf_counter()
        again = run_collector(ws, TelegramDesktopExport(export))
        second = time.perf_counter() - started
        assert again.duplicates == n
    return n / first, n / second


def bench_media(tmp: Path, total_mb: int) -> tuple[float, float]:
    folder = tmp / "media-in"
    folder.mkdir()
    block = hashlib.sha256(b"seed").digest() * (1024 * 1024 // 32)
    files = []
    for i in range(max(1, total_mb // 32)):
        path = folder / f"f{i}.bin"
        with path.open("wb") as out:
            for j in range(32):
                out.write(block[:-8] + i.to_bytes(4, "big") + j.to_bytes(4, "big"))
        files.append(path)
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    started = time.perf_counter()
    for path in files:
        sha256_file(path)
    hash_only = size_mb / (time.perf_counter() - started)
    with Workspace.create(tmp / "ws-media") as ws:
        started = time.perf_counter()
        for path in files:
            ws.media.put_file(path)
        store = size_mb / (time.perf_counter() - started)
    return hash_only, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--media-mb", type=int, default=256)
    parser.add_argument("--postgresql", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server (a database on it to connect to first); empty: SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        export = build_export(tmp / "export", args.messages)
        sqlite = load_settings(environ={})
        results = {"SQLite": bench_posts(tmp, export, args.messages, sqlite, "sqlite")}
        if args.postgresql:
            server = PostgreSQLServer(args.postgresql)
            url = server.create_empty()
            try:
                shared = dataclasses.replace(sqlite, database=DatabaseSettings(url=url))
                results["PostgreSQL"] = bench_posts(tmp, export, args.messages, shared, "postgresql")
            finally:
                server.drop(url)
        hash_mbs, store_mbs = bench_media(tmp, args.media_mb)
    rows = {}
    for backend, (first, second) in results.items():
        rows[f"{backend}: first ingest of {args.messages:,} messages"] = f"{first:,.0f} posts/s"
        rows[f"{backend}: re-ingest of the same export (all duplicates)"] = f"{second:,.0f} posts/s"
    rows.update({
        "SHA-256 of media files (read + hash)": f"{hash_mbs:,.0f} MB/s",
        "archive media (read + hash + write + fsync + rename)": f"{store_mbs:,.0f} MB/s",
    })
    print("| measure | result |\n|---|---|")
    for key, value in rows.items():
        print(f"| {key} | {value} |")
    print(json.dumps({"posts_per_s": {b: round(r[0]) for b, r in results.items()},
                      "reingest_posts_per_s": {b: round(r[1]) for b, r in results.items()},
                      "hash_mb_s": round(hash_mbs), "store_mb_s": round(store_mbs)}), file=sys.stderr)


if __name__ == "__main__":
    main()
