"""The archive's database: SQLite inside the workspace, or a shared PostgreSQL server.

One code path for both. Connections, drivers (sqlite3; psycopg 3) and dialects come from
SQLAlchemy Core; the schema and its migrations from Alembic (svidok/foundation/migrations/).
Svidok's queries are SQL in the subset both engines run alike, written with `?` placeholders
(or `:name` with a dict); on PostgreSQL they are handed to the driver in its own parameter style.
The few things the engines spell differently (JSON arrays, string aggregation, full-text search)
are the methods of `Database` below, so a query says what it needs, not which engine it is on.

Writes go in short transactions (`with db.transaction():`), one writer at a time on both
engines: SQLite's BEGIN IMMEDIATE takes the database's write lock; on PostgreSQL a transaction
takes one transaction-scoped advisory lock, the same turn-taking, so a read-then-write inside a
transaction (the audit chain's tip, a sighting's free key) is never raced by another process.
Reads never wait (WAL on SQLite, MVCC on PostgreSQL). Never compute or wait on the network
inside a transaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError  # noqa: F401  (re-exported)
from sqlalchemy.pool import NullPool

SQLITE_FILE = "svidok.db"
# the key of the advisory lock a PostgreSQL write transaction holds: "svidok" in ASCII
WRITE_LOCK_KEY = 0x7376_6964_6F6B

Params = Sequence[Any] | Mapping[str, Any]


class DatabaseError(Exception):
    """The database cannot be reached, read or used by this Svidok."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def describe(url: str) -> str:
    """The URL for messages, without a password."""
    return make_url(url).render_as_string(hide_password=True)


class Rows:
    """A statement's result, as a DB-API cursor gives it: iterate for the rows (tuples that also
    answer to column names), `fetchone`/`fetchall`/`fetchmany`, `rowcount`, and SQLAlchemy's
    `first`/`scalar`/`scalar_one`/`all`. `dict(rows)` maps the first column to the second, as
    with sqlite3 (so the column names are `columns()`, not `keys()`)."""

    __slots__ = ("_result",)

    def __init__(self, result: CursorResult[Any]) -> None:
        self._result = result

    def __iter__(self) -> Iterator[Any]:
        return iter(self._result)

    def __getattr__(self, name: str) -> Any:
        if name == "keys":
            raise AttributeError(name)
        return getattr(self._result, name)

    def columns(self) -> list[str]:
        return list(self._result.keys())


class Database:
    """One connection to the archive's database, used by one thread at a time."""

    def __init__(self, url: str, write_wait_s: float = 30.0) -> None:
        parsed = make_url(url)
        self.url = url
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            self.engine = sa.create_engine(parsed, poolclass=NullPool, connect_args={
                "timeout": write_wait_s, "check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_settings)
        elif self.backend == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
            self.engine = sa.create_engine(parsed, poolclass=NullPool, connect_args={
                "connect_timeout": 10, "application_name": "svidok",
                # a writer waits its turn this long, then fails with a clear error (cf. SQLite's busy timeout)
                "options": f"-c lock_timeout={int(write_wait_s * 1000)}"})
        else:
            raise DatabaseError(f"{describe(url)}: unsupported database (SQLite or PostgreSQL)")
        try:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            raise DatabaseError(f"cannot open the database {describe(url)}: {_first_line(exc)}") from None
        self._driver = self._connection.connection.driver_connection
        self.write_wait_s = write_wait_s
        self.transaction_number = 0          # counts write transactions begun on this connection
        # the audit chain's tip as this connection's current write transaction left it
        # (svidok/foundation/audit.py): valid only inside that transaction, which holds the write turn
        self.audit_tip: tuple[int, int, str] | None = None

    # --- statements ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> "Rows":
        """Run one statement; rows come back as tuples (also addressable by column name)."""
        if isinstance(params, list):
            params = tuple(params)
        if self.backend == "postgresql":
            sql, params = _driver_style(sql, bool(params)), _params_for_postgresql(params)
        return Rows(self._connection.exec_driver_sql(sql, params if params else None))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self.backend == "postgresql":
            sql, rows = _driver_style(sql, True), [_params_for_postgresql(row) for row in rows]
        self._connection.exec_driver_sql(sql, rows)

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        for row in self.execute(sql, params):
            yield dict(row._mapping)

    def insert(self, table: str, row: Mapping[str, Any]) -> int:
        """Insert one row and return its `id`."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return int(self.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) RETURNING id',
                                tuple(row.values())).scalar_one())

    # --- transactions -------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        if self.backend == "sqlite":
            return bool(self._driver.in_transaction)
        return self._driver.info.transaction_status != _PG_IDLE

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """One short write transaction; inside an open one it joins that one."""
        if self.in_transaction:
            yield self
            return
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin(self) -> None:
        """Start a write transaction and take the write turn (waits for another writer)."""
        self.transaction_number += 1
        if self.backend == "sqlite":
            self._connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        self._connection.exec_driver_sql("BEGIN")
        try:
            self._connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        self._connection.exec_driver_sql("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._connection.exec_driver_sql("ROLLBACK")

    # --- what the engines spell differently ----------------------------------------------------

    def json_values(self, expression: str) -> str:
        """A FROM item with a column `value` for each element of a JSON array (compare it as
        `CAST(value AS INTEGER)` / `CAST(value AS TEXT)`: its type differs between the engines)."""
        if self.backend == "sqlite":
            return f"json_each({expression})"
        return f"jsonb_array_elements_text(CAST({expression} AS jsonb)) AS json_values(value)"

    def json_field(self, expression: str, key: str) -> str:
        """The text of `key` in the JSON object `expression`."""
        if not re.fullmatch(r"\w+", key):
            raise ValueError(key)
        if self.backend == "sqlite":
            return f"json_extract({expression}, '$.{key}')"
        return f"(CAST({expression} AS jsonb) ->> '{key}')"

    def string_agg(self, expression: str, separator: str) -> str:
        """Aggregate: the group's values joined with `separator` (a literal without quotes)."""
        if "'" in separator:
            raise ValueError(separator)
        if self.backend == "sqlite":
            return f"group_concat({expression}, '{separator}')"
        return f"string_agg(CAST({expression} AS TEXT), '{separator}')"

    def erase_deleted(self, tables: Sequence[str]) -> None:
        """Make deleted rows unrecoverable from the database files (after a consent's revocation).

        SQLite overwrites deleted content as it goes (secure_delete) and the write-ahead log is
        emptied here. PostgreSQL rewrites the tables (VACUUM FULL), which drops the dead row
        versions only once no other session of this database still sees them: so it first waits
        (at most the write wait) for the snapshots taken before the deletion to end. What the
        server's write-ahead log and backups hold is beyond reach (README, Team deployment)."""
        if self.in_transaction:
            raise RuntimeError("erase_deleted runs outside a transaction")
        if self.backend == "sqlite":
            self.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        after = self.execute("SELECT CAST(pg_current_xact_id() AS text)").scalar_one()   # later than the deletion
        deadline = time.monotonic() + self.write_wait_s
        while self.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age(CAST(? AS xid))", (after,)
        ).scalar_one() and time.monotonic() < deadline:
            time.sleep(0.05)
        for table in tables:
            if not re.fullmatch(r"\w+", table):
                raise ValueError(table)
            self.execute(f'VACUUM FULL "{table}"')

    def tables(self) -> set[str]:
        return set(sa.inspect(self._connection).get_table_names())

    @property
    def sqlalchemy_connection(self) -> sa.Connection:
        """For Alembic and the copy between backends."""
        return self._connection

    def close(self) -> None:
        try:
            self.rollback()
        except DBAPIError:
            pass
        self._connection.close()
        self.engine.dispose()


def _sqlite_settings(driver_connection: Any, _record: Any) -> None:
    # secure_delete: deleted rows (revoked references' embeddings) are overwritten, not left in free pages
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL", "secure_delete=ON"):
        driver_connection.execute(f"PRAGMA {pragma}")


_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE

_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::|\?|:(\w+)|%""")


_EMPTY_IN = re.compile(r"(?<![\w.])[\w.]+\s+(NOT\s+)?IN\s*\(\s*\)", re.IGNORECASE)


@lru_cache(maxsize=2048)
def _driver_style(sql: str, with_params: bool) -> str:
    """`?` and `:name` placeholders in psycopg's style (`%s`, `%(name)s`), literals left alone;
    `x IN ()` over an empty list (SQLite: false; `NOT IN ()`: true) spelled as PostgreSQL takes it."""
    sql = _EMPTY_IN.sub(lambda m: "TRUE" if m.group(1) else "FALSE", sql)
    if not with_params:
        return sql

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return token.replace("%", "%%") if token[0] in "'\"" else token

    return _TOKENS.sub(replace, sql)


def _for_postgresql(value: Any) -> Any:
    """True/False as 1/0, as SQLite stores them (flag columns are integers on both engines); a NUL
    character, which PostgreSQL's text refuses and hostile pages do carry, as U+FFFD."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _params_for_postgresql(params: Params) -> Params:
    if isinstance(params, Mapping):
        return {k: _for_postgresql(v) for k, v in params.items()}
    return tuple(_for_postgresql(v) for v in params)


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
