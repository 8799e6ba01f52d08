"""`svidok verify` on a large archive: wall time, rows and bytes per second, peak memory.

Builds a workspace with `--gb` GiB of stored media (8 MiB files of random bytes, through the
content store) and `--sightings` sightings, each decided by two reviewers: the decision rows,
the sightings' statuses and their audit entries (`decision.record`, written with the audit log's
own `append`, in the shape cases/decisions.py writes them) — 3 audited rows and 2 audit entries
per sighting — plus 1,000 persons added through `add_person`. Then runs `svidok verify --json`
in a child process and reports its wall time and maximum resident set size (getrusage of the
children), once with the files and rows as built and once after one decision row was edited
with sqlite3 (it must be reported).

Usage: .venv/bin/python benchmarks/archive_verify.py [--sightings 100000] [--gb 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from svidok.cases.users import add_user
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import DB_NAME, Workspace
from svidok.matching.persons import PersonInput, add_person

FILE_BYTES = 8 * 1024 * 1024
CHECKLIST = {"face_shape": "similar", "eyes": "similar"}
BATCH = 5000


def _random_file(size: int):
    left = size
    while left:
        chunk = os.urandom(min(left, 1024 * 1024))
        left -= len(chunk)
        yield chunk


def _media(ws: Workspace, gb: float) -> list[str]:
    shas = []
    for _ in range(max(1, int(gb * 1024 ** 3 // FILE_BYTES))):
        stored = ws.media.put_stream(_random_file(FILE_BYTES), "bin")
        ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, first_seen, path) VALUES (?, ?, ?, ?, ?, ?)",
                        (stored.sha256, stored.size, stored.mime, stored.ext, utc_now(), stored.relpath))
        shas.append(stored.sha256)
    return shas


def _decide(ws: Workspace, first: int, count: int, reviewers: dict[str, int], persons: list[int],
            media: list[str]) -> None:
    now = utc_now()
    with ws.transaction():
        for n in range(first, first + count):
            sid = ws.conn.execute(
                "INSERT INTO sighting (person_id, media_sha256, key, score, status, created_at, updated_at)"
                " VALUES (?, ?, ?, 0.9, 'pending', ?, ?) RETURNING id",
                (persons[n % len(persons)], media[n % len(media)], f"bench-{n}", now, now)).fetchone()[0]
            for i, (name, uid) in enumerate(reviewers.items()):
                status = "confirmed" if i else "pending"
                did = ws.conn.execute(
                    "INSERT INTO decision (sighting_id, reviewer_id, verdict, checklist, observation, revealed, at)"
                    " VALUES (?, ?, 'confirm', ?, ?, 1, ?) RETURNING id",
                    (sid, uid, json.dumps(CHECKLIST), f"observation {n}", now)).fetchone()[0]
                ws.audit.append(name, "decision.record", f"sighting:{sid}", {
                    "decision": did, "verdict": "confirm", "checklist": CHECKLIST, "observation": f"observation {n}",
                    "revealed": True, "status": status, "reason": None})
            ws.conn.execute("UPDATE sighting SET status = 'confirmed' WHERE id = ?", (sid,))


def build(root: Path, sightings: int, gb: float) -> dict[str, float]:
    started = time.perf_counter()
    with Workspace.create(root) as ws:
        media = _media(ws, gb)
        reviewers = {name: add_user(ws, name, "reviewer", "a long enough passphrase") for name in ("r1", "r2")}
        persons = [add_person(ws, PersonInput(name=f"Person {i}")) for i in range(1000)]
        for first in range(0, sightings, BATCH):
            _decide(ws, first, min(BATCH, sightings - first), reviewers, persons, media)
        entries = ws.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    return {"build_s": round(time.perf_counter() - started, 1), "media_files": len(media), "audit_entries": entries}


def verify(root: Path) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "svidok.cli", "verify", "--workspace", str(root), "--json"],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    return {"exit": done.returncode, "wall_s": round(wall, 1), "ok": report["ok"],
            "files": report["files_checked"], "mb_per_s": round(report["bytes_checked"] / 1e6 / wall, 1),
            "rows": report["rows_checked"], "problems": [p["what"][:80] for p in report["problems"]][:3],
            "children_max_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sightings", type=int, default=100_000)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, default=None, help="build here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="svidok-verify-bench-")) / "ws"
    try:
        print(json.dumps({"sightings": args.sightings, "gb": args.gb, **build(root, args.sightings, args.gb)}))
        print(json.dumps({"clean": verify(root)}))
        conn = sqlite3.connect(root / DB_NAME)
        conn.execute("UPDATE decision SET verdict = 'reject' WHERE id = (SELECT MAX(id) FROM decision)")
        conn.commit()
        conn.close()
        print(json.dumps({"one_decision_edited": verify(root)}))
    finally:
        if args.keep is None:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
