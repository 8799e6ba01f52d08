"""Read an evidence package as it was handed over: a ZIP file or an unpacked bag folder.

Both give the bag's files by their path inside the bag (`data/case.json`, `signature/...`).
Nothing is extracted: a ZIP's members are read and hashed in place, so a hostile archive
(absolute names, `..`, links, the same name twice, more than one top folder) is refused before
any file is looked at, and writes nothing to disk.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol

CHUNK = 1024 * 1024
MAX_TAG_BYTES = 64 * 1024 * 1024          # a JSON record or tag file read whole


class PackageError(ValueError):
    """Not a readable package (the message says why)."""


class PackageFiles(Protocol):
    name: str                             # the bag's folder name

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...

    def sha256(self, name: str) -> str: ...

    def size(self, name: str) -> int: ...


class BagFolder:
    """An unpacked bag."""

    def __init__(self, root: Path) -> None:
        self.root, self.name = root, root.name
        if any(p.is_symlink() for p in root.rglob("*")):
            raise PackageError("the bag contains symbolic links")
        self._names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def names(self) -> list[str]:
        return self._names

    def read(self, name: str) -> bytes:
        return _capped((self.root / name).read_bytes(), name)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with (self.root / name).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size


class BagZip:
    """A bag serialised as one ZIP file with a single top folder."""

    def __init__(self, path: Path) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"not a ZIP file: {exc}") from None
        infos = [i for i in self.archive.infolist() if not i.is_dir()]
        tops = {_top(i.filename) for i in self.archive.infolist()}
        if len(tops) != 1:
            raise PackageError(f"the archive must hold exactly one top folder, not {len(tops)}")
        self.name = tops.pop()
        self._infos = {}
        for info in infos:
            _check_member(info)
            inner = info.filename[len(self.name) + 1:]
            if inner in self._infos:
                raise PackageError(f"{info.filename} is in the archive twice")
            self._infos[inner] = info

    def names(self) -> list[str]:
        return sorted(self._infos)

    def read(self, name: str) -> bytes:
        with self.archive.open(self._infos[name]) as handle:
            return _capped(handle.read(MAX_TAG_BYTES + 1), name)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.archive.open(self._infos[name]) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def size(self, name: str) -> int:
        return self._infos[name].file_size


def open_package(path: Path) -> PackageFiles:
    if path.is_dir():
        return BagFolder(path)
    if path.is_file():
        return BagZip(path)
    raise PackageError(f"no such file or folder: {path}")


def _top(name: str) -> str:
    return name.split("/", 1)[0]


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or ".." in parts or len(parts) < 2 or ":" in parts[0]:
        raise PackageError(f"unsafe name in the archive: {name!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise PackageError(f"the archive holds a link: {name!r}")


def _capped(data: bytes, name: str) -> bytes:
    if len(data) > MAX_TAG_BYTES:
        raise PackageError(f"{name} is larger than {MAX_TAG_BYTES} bytes")
    return data
