"""`svidok verify`: the archive proves itself — stored bytes, the audit chain, and the rows the
audit log vouches for.

1. stored files (cases/archive_files.py): every file under media/, derived/ and references/
   re-hashed against its name; every media, artifact and reference row finds its file;
2. the audit chain (svidok/foundation/audit.py `verify`): no entry changed, none removed from
   the middle;
3. what the audit log vouches for (cases/archive_claims.py), folded from its entries;
4. the rows against it (cases/archive_rows.py): decisions, sighting statuses, consents and
   revocations, cases with their notes and attachments, users and roles, persons, reference
   photos, and the status steps (reports, family contacts, places of detention). A row changed,
   added or deleted with another tool shows here, and so do the newest audit entries cut off
   (a removed entry leaves its row unvouched);
5. audit tips: every evidence package under exports/ recorded the audit tip it was made at;
   that entry must still be in the log with the same hash, so cutting the log back below an
   export shows even when no row depends on the entries removed;
6. audit anchors (cases/audit_anchor_check.py): every RFC 3161 timestamp of the audit tip
   (`svidok audit anchor`) checks against the trusted TSA roots and is over that tip, and the
   entry it anchored still has that hash, so a log rewritten with every hash recomputed shows
   from the first anchor at or after the rewritten entry.

Steps 2-6 read one snapshot of the database (a read transaction: writers go on meanwhile), so
work committed while `verify` runs is never half seen. Everything is read in pages and files
in chunks; memory grows with the number of audited records (about 300 bytes each: a key and
the seq and digest of its entry), not with the archive's size or the length of the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from svidok.cases.archive_claims import fold_claims
from svidok.cases.archive_files import Progress, check_pointers, hash_stores
from svidok.cases.archive_report import ArchiveReport, Problems
from svidok.cases.archive_rows import check_rows
from svidok.cases.audit_anchor_check import check_anchors
from svidok.cases.bag import parse_bag_info
from svidok.cases.package_files import PackageError, open_package
from svidok.foundation.workspace import Workspace


def verify_archive(ws: Workspace, progress: Progress | None = None, limit: int = 1000) -> ArchiveReport:
    """Check the whole archive; a report lists every problem found (the first `limit` in full)."""
    problems = Problems(limit)
    counted = hash_stores(ws, problems, progress)                                      # 1
    pointer_rows = check_pointers(ws, problems)
    with _snapshot(ws):
        chain = ws.audit.verify()                                                      # 2
        for p in chain.problems:
            problems.add("audit-chain", f"audit entry {p.seq}: {p.problem}")
        up_to = ws.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
        claims = fold_claims(ws, up_to)                                                # 3
        rows = check_rows(ws, claims, problems)                                        # 4
        check_export_tips(ws, problems)                                                # 5
        for anchor in check_anchors(ws):                                               # 6
            problems.add("audit-anchor", anchor.what)
    return ArchiveReport(counted.files, counted.bytes, rows + pointer_rows, chain.entries, chain.tip,
                         problems.items, problems.total)


@contextmanager
def _snapshot(ws: Workspace) -> Iterator[None]:
    """One read transaction: a snapshot that writers do not wait for (SQLite WAL; PostgreSQL
    REPEATABLE READ)."""
    if ws.conn.in_transaction:
        yield
        return
    postgres = getattr(ws.conn, "backend", "sqlite") == "postgresql"
    ws.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if postgres else "BEGIN")
    try:
        yield
    finally:
        ws.conn.execute("COMMIT")


def _packages(exports: Path) -> Iterator[Path]:
    """Bags under exports/: unpacked folders, and ZIP files whose folder is gone."""
    if not exports.is_dir():
        return
    for path in sorted(exports.iterdir()):
        folder = path.is_dir() and (path / "bag-info.txt").is_file()
        if folder or (path.suffix == ".zip" and not path.with_suffix("").is_dir()):
            yield path


def check_export_tips(ws: Workspace, problems: Problems) -> None:
    """Step 5: the audit tip each package under exports/ recorded is still in the chain."""
    for path in _packages(ws.root / "exports"):
        try:
            info = parse_bag_info(open_package(path).read("bag-info.txt").decode("utf-8", "replace"))
        except (PackageError, OSError, KeyError):
            continue                    # not a package of ours; `svidok package verify` says what is wrong
        seq, tip = info.get("Svidok-Audit-Tip-Seq", ""), info.get("Svidok-Audit-Tip")
        if not seq.isdigit() or not tip:
            continue
        row = ws.conn.execute("SELECT hash FROM audit WHERE seq = ?", (int(seq),)).fetchone()
        if row is None:
            problems.add("audit-tip", f"exports/{path.name} was made at audit entry {seq}, which the audit log no"
                         " longer has: entries were removed from its end")
        elif row[0] != tip:
            problems.add("audit-tip", f"exports/{path.name} was made at audit entry {seq} with hash {tip[:16]}…,"
                         f" but the log's entry {seq} hashes to {row[0][:16]}…: the log was rewritten")
