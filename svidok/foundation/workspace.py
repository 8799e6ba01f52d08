"""The workspace: one folder holding every stored file and, by default, the SQLite archive.

    <workspace>/            mode 0700
        svidok.db           SQLite (WAL, foreign keys), schema in svidok/foundation/schema.py;
                            absent when `database.url` / SVIDOK_DATABASE_URL names a PostgreSQL
                            database shared by a team (svidok/foundation/database.py)
        media/ab/cd/<sha256>.<ext>        originals, never modified
        derived/ab/cd/<sha256>.<ext>      frames, crops, screenshots, page HTML, audio
        references/ab/cd/<sha256>.<ext>   consented reference photos (deleted on revocation)
        exports/            evidence packages
        sessions/           collector login sessions (mode 0600 files)
        svidok.toml         optional settings for this workspace
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from svidok.foundation.audit import AuditLog
from svidok.foundation.database import SQLITE_FILE, Database, DatabaseError, DBAPIError, describe, sqlite_url
from svidok.foundation.schema import migrate
from svidok.foundation.settings import Settings, load_settings
from svidok.foundation.store import ContentStore

DB_NAME = SQLITE_FILE
FOLDERS = ("media", "derived", "references", "exports", "sessions")


class WorkspaceError(Exception):
    """The workspace is missing, unreadable or not a Svidok workspace."""


def default_workspace_path() -> Path:
    return Path(os.environ.get("SVIDOK_WORKSPACE", "svidok-workspace"))


def database_url(root: Path, settings: Settings) -> str:
    """The workspace's database: `database.url` (SVIDOK_DATABASE_URL) or SQLite in the folder."""
    return settings.database.url or sqlite_url(root / DB_NAME)


def connect(root: Path, settings: Settings) -> Database:
    """A new connection to the workspace's database, with the settings every Svidok connection uses."""
    return Database(database_url(root, settings), write_wait_s=settings.database.pool_wait_s)


class Workspace:
    """An opened workspace. Create one with `Workspace.create` or `Workspace.open`."""

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = root.resolve()
        self.settings = settings or load_settings(self.root)
        self.conn = connect(self.root, self.settings)
        self.db = self.conn
        try:
            migrate(self.conn)
        except BaseException:
            self.conn.close()
            raise

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
        settings = settings or load_settings(root.resolve() if root.exists() else root)
        shared = bool(settings.database.url)
        if not cls.exists(root, settings):
            raise WorkspaceError(f"no workspace at {root} (run `svidok init --workspace {root}` first)")
        where = describe(settings.database.url) if shared else str(root / DB_NAME)
        try:
            workspace = cls(root, settings)
        except DatabaseError as exc:
            raise WorkspaceError(str(exc)) from None
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise WorkspaceError(f"{where}: not a readable Svidok database ({reason})") from None
        for store in (workspace.media, workspace.derived, workspace.references):
            store.sweep_temp()
        return workspace

    @staticmethod
    def exists(root: Path, settings: Settings | None = None) -> bool:
        """Whether `svidok init` made a workspace here (its files; its database, when it is SQLite)."""
        settings = settings or load_settings(root.resolve() if root.exists() else root)
        if settings.database.url:
            return (root / "media").is_dir()
        return (root / DB_NAME).is_file()

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
        return AuditLog(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One short write transaction (the write turn taken, COMMIT, ROLLBACK on error).

        Inside an open transaction it joins that one. Never compute or wait on the network
        inside: other processes wait for the write turn meanwhile."""
        with self.conn.transaction() as conn:
            yield conn

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
