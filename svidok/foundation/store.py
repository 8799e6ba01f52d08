"""Content-addressed file store: bytes are kept under `<root>/ab/cd/<sha256>.<ext>`.

Every write goes to a temporary file in the same folder tree, is hashed while streaming
(never read whole into memory), fsynced, and only then renamed to its final name. A crash
at any point leaves at worst an orphan `.tmp-*` file and never a half-written file under a
final name. A temporary file is named `.tmp-<host>-<pid>-<random>` after its writer, so that
`sweep_temp` removes only abandoned ones: written by a process of this host that is gone, or
untouched for `ABANDONED_AFTER_S` (another host's, or a name it cannot read). Another process
writing into the same store meanwhile keeps its file. Files under a final name are made read-only: the
originals are never modified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from svidok.foundation.mime import sniff

CHUNK = 1024 * 1024
TEMP_PREFIX = ".tmp-"
ABANDONED_AFTER_S = 24 * 3600      # a temporary file untouched this long has no writer left


class StoreError(Exception):
    """A file could not be read or stored."""


class TooLarge(StoreError):
    """A file exceeds the configured size limit."""


@dataclass(frozen=True)
class StoredFile:
    """A file now held by the store."""

    sha256: str
    size: int
    mime: str
    ext: str
    relpath: str          # relative to the workspace root
    already_present: bool


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ContentStore:
    """A folder of files named by the SHA-256 of their bytes."""

    def __init__(self, root: Path, workspace_root: Path, max_bytes: int | None = None) -> None:
        self.root = root
        self.workspace_root = workspace_root
        self.max_bytes = max_bytes

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.{ext}"

    def relpath_for(self, sha256: str, ext: str) -> str:
        return str(self.path_for(sha256, ext).relative_to(self.workspace_root))

    def put_stream(self, chunks: Iterable[bytes], ext_hint: str = "", expect: tuple[str, ...] = ()) -> StoredFile:
        """Store the bytes yielded by `chunks`; the extension comes from sniffing the bytes.

        `expect` lists acceptable MIME major types (e.g. ("video",)); other content is refused
        before it gets a final name.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(), dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if self.max_bytes is not None and size > self.max_bytes:
                        raise TooLarge(f"larger than the {self.max_bytes:,}-byte limit")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise StoreError("empty file (0 bytes)")
            mime, ext = sniff(head, ext_hint)
            if expect and mime.split("/")[0] not in expect:
                raise StoreError(f"content is {mime}, not {' or '.join(expect)}")
            sha = digest.hexdigest()
            final = self.path_for(sha, ext)
            if final.exists():
                tmp.unlink()
                return StoredFile(sha, size, mime, ext, self.relpath_for(sha, ext), True)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return StoredFile(sha, size, mime, ext, self.relpath_for(sha, ext), False)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_file(self, source: Path, chunk_bytes: int = CHUNK, expect: tuple[str, ...] = ()) -> StoredFile:
        """Copy a file into the store (streamed)."""
        try:
            with source.open("rb") as handle:
                return self.put_stream(_read_chunks(handle, chunk_bytes), source.suffix.lstrip("."), expect)
        except (PermissionError, IsADirectoryError, FileNotFoundError) as exc:
            raise StoreError(f"cannot read: {exc.strerror or exc}") from None

    def put_bytes(self, data: bytes, ext_hint: str = "", expect: tuple[str, ...] = ()) -> StoredFile:
        return self.put_stream([data], ext_hint, expect)

    def has(self, sha256: str, ext: str) -> bool:
        return self.path_for(sha256, ext).is_file()

    def sweep_temp(self) -> int:
        """Remove temporary files that interrupted writes left behind; returns how many."""
        removed = 0
        if not self.root.exists():
            return 0
        for tmp in self.root.rglob(f"{TEMP_PREFIX}*"):
            if _abandoned(tmp):
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed

    def remove(self, sha256: str, ext: str) -> bool:
        """Delete a stored file (used only for consented reference photos on revocation)."""
        path = self.path_for(sha256, ext)
        if not path.exists():
            return False
        os.chmod(path, 0o600)
        path.unlink()
        return True


def _host() -> str:
    return socket.gethostname().replace("-", "_") or "host"


def _temp_prefix() -> str:
    return f"{TEMP_PREFIX}{_host()}-{os.getpid()}-"


def _abandoned(tmp: Path) -> bool:
    """Whether no writer is left: its process (on this host) is gone, or it is old."""
    try:
        age = time.time() - tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > ABANDONED_AFTER_S:
        return True
    host, _, rest = tmp.name[len(TEMP_PREFIX):].partition("-")
    pid = rest.partition("-")[0]
    if host != _host() or not pid.isdigit():
        return False
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_chunks(handle: BinaryIO, size: int) -> Iterable[bytes]:
    while chunk := handle.read(size):
        yield chunk


def sha256_file(path: Path, chunk_bytes: int = CHUNK) -> str:
    """Hash a file without reading it whole into memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in _read_chunks(handle, chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def copy_out(source: Path, destination: Path) -> None:
    """Copy a stored file out (exports); the copy is writable, the original is untouched."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
