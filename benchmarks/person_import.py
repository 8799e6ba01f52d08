"""Bulk enrollment speed: `svidok person import` of a generated register, through the command's
own code path (matching.register_csv / matching.register_import), on SQLite and (side by side)
on PostgreSQL.

- 1,000 persons, each with a consent, no photos: the first import, the re-import of the same
  register (everything recognised, nothing added) and the one retroactive search at the end;
- 50 persons with one photo each, the first photo of 50 LFW identities
  (../shared/data/faces/lfw-dev; skipped with a note when absent): face detection, quality
  checks and embedding per photo, then the one search.

    .venv/bin/python benchmarks/person_import.py [--persons 1000] [--photos 50]
        [--postgresql postgresql://postgres@127.0.0.1:5432/test]   # "" = SQLite only

Prints a markdown table (and the numbers as JSON on stderr).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.foundation.settings import DatabaseSettings, Settings, load_settings  # noqa: E402
from svidok.foundation.workspace import Workspace  # noqa: E402
from svidok.matching.register_csv import open_register  # noqa: E402
from svidok.matching.register_import import ImportReport, audit_import, import_rows, search_imported  # noqa: E402

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "lfw-dev" / "images"
CONSENT = {"consent_given_by": "Марія Петренко", "consent_relation": "mother", "consent_date": "2024-05-01"}


def write_register(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", "born", "case_number", *CONSENT, "photos"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def lfw_photos(n: int) -> list[str]:
    """The first photo of the first n identities (sorted), relative to the LFW folder."""
    folders = sorted(p for p in LFW.iterdir() if p.is_dir())[:n]
    return [str(next(iter(sorted(f.glob("*.jpg")))).relative_to(LFW)) for f in folders]


def run_import(ws: Workspace, register: Path, photos_dir: Path | None,
               search: bool) -> tuple[ImportReport, float, float]:
    """(report, seconds importing, seconds searching) — what `svidok person import` does."""
    started = time.perf_counter()
    source = open_register(register, photos_dir)
    report = ImportReport()
    for result in import_rows(ws, source):
        report.add(result)
    audit_import(ws, source, report)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    if search:
        search_imported(ws, report)
    return report, imported, time.perf_counter() - started


def bench(tmp: Path, settings: list[Settings], name: str, persons: int, photos: list[str]) -> dict[str, float]:
    """settings: one per workspace (the rows' and the photos'), each with a database of its own."""
    out: dict[str, float] = {}
    rows = [{"name": f"Особа Тестова {i}", "born": str(1960 + i % 40), "case_number": f"B-{i:06d}", **CONSENT}
            for i in range(persons)]
    register = write_register(tmp / f"register-{name}.csv", rows)
    with Workspace.create(tmp / f"ws-{name}", settings[0]) as ws:
        report, out["import_s"], out["search_s"] = run_import(ws, register, None, True)
        assert (report.persons, report.consents, report.rejected) == (persons, persons, []), report.as_dict()
        report, out["reimport_s"], _ = run_import(ws, register, None, False)
        assert (report.existing, report.persons, report.consents) == (persons, 0, 0), report.as_dict()
    if photos:
        rows = [{"name": f"Фото Особа {i}", "case_number": f"F-{i:06d}", **CONSENT, "photos": p}
                for i, p in enumerate(photos)]
        register = write_register(tmp / f"register-photos-{name}.csv", rows)
        with Workspace.create(tmp / f"ws-photos-{name}", settings[1]) as ws:
            report, out["photos_import_s"], out["photos_search_s"] = run_import(ws, register, LFW, True)
            out["photos_accepted"] = report.references
            out["photos_rejected"] = len(report.rejected)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=50, help="Persons with one LFW photo each (0: none).")
    parser.add_argument("--postgresql", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server (a database on it to connect to first); empty: SQLite only")
    args = parser.parse_args()
    photos: list[str] = []
    if args.photos:
        if LFW.is_dir():
            photos = lfw_photos(args.photos)
        else:
            print(f"note: {LFW} is absent; the photo part is skipped", file=sys.stderr)
    sqlite = load_settings(environ={})
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results["SQLite"] = bench(tmp, [sqlite, sqlite], "sqlite", args.persons, photos)
        if args.postgresql:
            from tests.postgresql import PostgreSQLServer

            server = PostgreSQLServer(args.postgresql)
            urls = [server.create_empty(), server.create_empty()]
            try:
                shared = [dataclasses.replace(sqlite, database=DatabaseSettings(url=url)) for url in urls]
                results["PostgreSQL"] = bench(tmp, shared, "postgresql", args.persons, photos)
            finally:
                for url in urls:
                    server.drop(url)
    print("| measure | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    n, k = args.persons, len(photos)
    lines = [
        (f"import {n:,} persons + consents, no photos",
         lambda r: f"{r['import_s']:.1f} s ({n / r['import_s']:,.0f} rows/s)"),
        ("  then the one retroactive search", lambda r: f"{r['search_s']:.1f} s"),
        (f"re-import of the same {n:,} rows (nothing added)",
         lambda r: f"{r['reimport_s']:.1f} s ({n / r['reimport_s']:,.0f} rows/s)")]
    if photos:
        lines += [
            (f"import {k} persons with one LFW photo each",
             lambda r: f"{r['photos_import_s']:.1f} s ({r['photos_import_s'] / k:.2f} s/photo; "
                       f"{r['photos_accepted']:.0f} accepted, {r['photos_rejected']:.0f} rejected)"),
            ("  then the one retroactive search", lambda r: f"{r['photos_search_s']:.1f} s")]
    for label, cell in lines:
        print(f"| {label} | " + " | ".join(cell(r) for r in results.values()) + " |")
    print(json.dumps({b: {k: round(v, 3) for k, v in r.items()} for b, r in results.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
