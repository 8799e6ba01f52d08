"""Copy a workspace's SQLite database into a shared PostgreSQL database, and prove the copy.

The flow of `svidok migrate-to URL`:
1. the destination is brought to the newest schema (Alembic) and must hold no rows yet;
2. every table is copied in dependency order, in batches, in one transaction (all or nothing),
   the audit log row for row with its hash chain;
3. id sequences continue after the copied ids; the full-text index is queued again by the
   destination's own triggers (it is rebuilt on the first search);
4. the copy is checked: rows per table equal, and the destination's audit chain verifies and
   ends at the same tip as the source's.
The workspace folder (media, derived files, references) is not touched: point
SVIDOK_DATABASE_URL (or `database.url`) at the destination and go on using it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from svidok.foundation.audit import AuditLog
from svidok.foundation.database import Database, DatabaseError, describe
from svidok.foundation.schema import migrate

BATCH_ROWS = 1000
# rebuilt on the destination: Alembic's own table and the full-text index with its queue
NOT_COPIED = {"alembic_version", "text_index", "text_index_pending"}


class CopyError(DatabaseError):
    """The copy cannot start, or the destination does not hold what the source holds."""


@dataclass
class CopyReport:
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    audit_entries: int = 0
    audit_tip: str = ""
    audit_ok: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"destination": self.destination, "rows": self.rows, "audit": {
            "entries": self.audit_entries, "tip": self.audit_tip, "ok": self.audit_ok}}


def copy_database(source: Database, destination: Database,
                  progress: Callable[[str, int], None] = lambda table, rows: None) -> CopyReport:
    """Copy every row of `source` into the empty `destination` (see module doc)."""
    if destination.backend != "postgresql":
        raise CopyError(f"{describe(destination.url)}: the destination must be a PostgreSQL database")
    migrate(destination)                                                                # 1
    tables = _tables_in_order(destination)
    filled = [t for t in tables if destination.execute(f'SELECT 1 FROM "{t}" LIMIT 1').first()]
    if filled:
        raise CopyError(f"{describe(destination.url)} already holds rows ({', '.join(filled[:5])}); "
                        "copy into a new, empty database")
    report = CopyReport(describe(destination.url))
    with destination.transaction():                                                     # 2
        for table in tables:
            report.rows[table] = _copy_table(source, destination, table)
            progress(table, report.rows[table])
        _continue_sequences(destination, tables)                                        # 3
        destination.execute("INSERT INTO text_index_pending (key) SELECT id * 2 FROM item ON CONFLICT DO NOTHING")
        destination.execute("INSERT INTO text_index_pending (key) SELECT id * 2 + 1 FROM transcript_segment"
                            " ON CONFLICT DO NOTHING")
    _check(source, destination, report)                                                 # 4
    return report


def _tables_in_order(db: Database) -> list[str]:
    metadata = sa.MetaData()
    metadata.reflect(db.sqlalchemy_connection)
    return [t.name for t in metadata.sorted_tables if t.name not in NOT_COPIED]


def _copy_table(source: Database, destination: Database, table: str) -> int:
    result = source.execute(f'SELECT * FROM "{table}"')
    columns = result.columns()
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    copied = 0
    while batch := result.fetchmany(BATCH_ROWS):
        destination.executemany(insert, [tuple(row) for row in batch])
        copied += len(batch)
    return copied


def _continue_sequences(db: Database, tables: list[str]) -> None:
    """Serial ids go on after the highest copied id."""
    for table in tables:
        for (column,) in db.execute(
                "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = CAST(? AS regclass) AND a.attnum > 0"
                " AND pg_get_serial_sequence(?, a.attname) IS NOT NULL", (f'"{table}"', f'"{table}"')).fetchall():
            db.execute(f'SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX("{column}"), 1),'
                       f' MAX("{column}") IS NOT NULL) FROM "{table}"', (f'"{table}"', column))


def _check(source: Database, destination: Database, report: CopyReport) -> None:
    for table, copied in report.rows.items():
        held = destination.execute(f'SELECT count(*) FROM "{table}"').scalar_one()
        had = source.execute(f'SELECT count(*) FROM "{table}"').scalar_one()
        if not had == copied == held:
            raise CopyError(f"{table}: {had} rows in the source, {copied} copied, {held} in the destination")
    before, after = AuditLog(source).verify(), AuditLog(destination).verify()
    report.audit_entries, report.audit_tip, report.audit_ok = after.entries, after.tip, after.ok
    if not after.ok or (before.entries, before.tip) != (after.entries, after.tip):
        raise CopyError(f"the copied audit log does not verify: {after.entries} entries, tip {after.tip[:16]}… "
                        f"(source: {before.entries} entries, tip {before.tip[:16]}…, "
                        f"{'intact' if before.ok else 'already broken in the source'})")
