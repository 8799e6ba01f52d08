"""The workspace: one folder holding the SQLite archive and every stored file.

    <workspace>/            mode 0700
        svidok.db           SQLite (WAL, foreign keys), schema in svidok/foundation/schema.py
        media/ab/cd/<sha256>.<ext>        originals, never modified
        derived/ab/cd/<sha256>.<ext>      frames, crops, screenshots, page HTML, audio
        references/ab/cd/<sha256>.<ext>   consented reference photos (deleted on revocation)
        exports/            evidence packages
        sessions/           collector login sessions (mode 0600 files)
        svidok.toml         optional settings for this workspace
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import sqlite_utils

from svidok.foundation.audit import AuditLog
from svidok.foundation.schema import migrate
from svidok.foundation.settings import Settings, load_settings
from svidok.foundation.store import ContentStore

DB_NAME = "svidok.db"
FOLDERS = ("media", "derived", "references", "exports", "sessions")


class WorkspaceError(Exception):
    """The workspace is missing, unreadable or not a Svidok workspace."""


def default_workspace_path() -> Path:
    return Path(os.environ.get("SVIDOK_WORKSPACE", "svidok-workspace"))


def connect(db_path: Path) -> sqlite3.Connection:
    """Open the database with the settings every Svidok connection uses."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Workspace:
    """An opened workspace. Create one with `Workspace.create` or `Workspace.open`."""

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = root.resolve()
        self.settings = settings or load_settings(self.root)
        self.conn = connect(self.root / DB_NAME)
        self.db = sqlite_utils.Database(self.conn)
        migrate(self.db)

    @classmethod
    def create(cls, root: Path, settings: Settings | None = None) -> "Workspace":
        """Create (or reopen) a workspace; idempotent."""
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        for name in FOLDERS:
            (root / name).mkdir(exist_ok=True)
        os.chmod(root / "sessions", 0o700)
        workspace = cls(root, settings)
        for store in (workspace.media, workspace.derived, workspace.references):
            store.sweep_temp()
        return workspace

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> "Workspace":
        if not (root / DB_NAME).is_file():
            raise WorkspaceError(f"no workspace at {root} (run `svidok init --workspace {root}` first)")
        try:
            workspace = cls(root, settings)
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"{root / DB_NAME}: not a readable Svidok database ({exc})") from None
        for store in (workspace.media, workspace.derived, workspace.references):
            store.sweep_temp()
        return workspace

    def _store(self, name: str) -> ContentStore:
        return ContentStore(self.root / name, self.root, self.settings.archive.max_file_bytes)

    @cached_property
    def media(self) -> ContentStore:
        """Originals as collected."""
        return self._store("media")

    @cached_property
    def derived(self) -> ContentStore:
        """Derived artifacts: frames, crops, screenshots, HTML, audio."""
        return self._store("derived")

    @cached_property
    def references(self) -> ContentStore:
        """Consented reference photos."""
        return self._store("references")

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error).

        Inside an open transaction it joins that one. Never compute or wait on the network
        inside: other processes wait for the write lock meanwhile."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
