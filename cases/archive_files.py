"""Stored files against their names and rows (used by `svidok verify`).

1. Every file under media/, derived/ and references/ is hashed in chunks (never read whole):
   its name is the SHA-256 of its bytes (svidok/foundation/store.py), so a changed byte shows.
   Temporary files of writes in progress (`.tmp-*`) are skipped.
2. Every row that points at a stored file (media, artifact, reference) must find it there under
   its own SHA-256. A reference row whose photo is gone is read again before it is reported:
   revoking a consent deletes the rows first and the photos after.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from svidok.cases.archive_report import Problems
from svidok.cases.archive_rows import pages
from svidok.foundation.store import TEMP_PREFIX, sha256_file
from svidok.foundation.workspace import Workspace

STORES = ("media", "derived", "references")
SHA = re.compile(r"^[0-9a-f]{64}$")
HEX2 = re.compile(r"^[0-9a-f]{2}$")
Progress = Callable[[int, int], None]          # (files hashed, bytes hashed) so far


@dataclass(frozen=True)
class FileCount:
    files: int
    bytes: int


@dataclass(frozen=True)
class Pointer:
    table: str
    store: str                      # the folder its files are in
    key: str                        # the table's key; rows are (key, sha256, path)
    select: str
    again: str                      # the row, read again when its file is missing


POINTERS = (
    Pointer("media", "media", "sha256", "SELECT sha256, sha256, path FROM media", "SELECT 1 FROM media WHERE sha256 = ?"),
    Pointer("artifact", "derived", "sha256", "SELECT sha256, sha256, path FROM artifact",
            "SELECT 1 FROM artifact WHERE sha256 = ?"),
    Pointer("reference", "references", "id", "SELECT id, photo_sha256, photo_path FROM reference",
            "SELECT 1 FROM reference WHERE id = ?"),
)


def _walk(folder: Path, depth: int = 0) -> Iterator[Path]:
    """Every file in the store's `ab/cd/` folders, one folder at a time (other folders, such as
    derived/cache/, hold no stored files)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if depth < 2 and HEX2.match(entry.name):
                yield from _walk(Path(entry.path), depth + 1)
        elif depth == 2 and not entry.name.startswith(TEMP_PREFIX):
            yield Path(entry.path)


def hash_stores(ws: Workspace, problems: Problems, progress: Progress | None = None) -> FileCount:
    """Step 1: every stored file hashes to its name."""
    files = size = 0
    for store in STORES:
        for path in _walk(ws.root / store):
            rel = path.relative_to(ws.root).as_posix()
            stem = path.name.split(".", 1)[0]
            if path.is_symlink() or not SHA.match(stem):
                problems.add("file-unexpected", f"{rel} is not a stored file (its name is no SHA-256)")
                continue
            try:
                actual = sha256_file(path)
                size += path.stat().st_size
            except FileNotFoundError:
                continue                        # removed meanwhile: step 2 says whether a row still wants it
            except OSError as exc:
                problems.add("file-changed", f"{rel} cannot be read: {exc.strerror or exc}")
                continue
            files += 1
            if actual != stem:
                problems.add("file-changed", f"{rel} now hashes to {actual}: its bytes were changed")
            if progress is not None:
                progress(files, size)
    return FileCount(files, size)


def check_pointers(ws: Workspace, problems: Problems) -> int:
    """Step 2: every row that points at a stored file finds it; returns how many rows were read."""
    rows = 0
    for pointer in POINTERS:
        for key, sha, relpath in pages(ws, pointer.select, (pointer.key,)):
            rows += 1
            path = PurePosixPath(relpath or "")
            if path.name.split(".", 1)[0] != sha or path.parts[:1] != (pointer.store,):
                problems.add("file-unexpected", f"{pointer.table} {key}: its path {relpath} is not named by its SHA-256")
            elif not ws.path(relpath).is_file() and _still_wanted(ws, pointer, key, relpath):
                problems.add("file-missing", f"{relpath} ({pointer.table} {key}) is missing from the workspace")
    return rows


def _still_wanted(ws: Workspace, pointer: Pointer, key: str | int, relpath: str) -> bool:
    """The row is still there (read again, outside any snapshot) and its file still is not."""
    return ws.conn.execute(pointer.again, (key,)).fetchone() is not None and not ws.path(relpath).is_file()
