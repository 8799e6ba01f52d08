"""Analysts' saved photos, videos and audio files (folders are walked recursively).

Each file becomes one item, a capture of its bytes (`source_kind` "files"): `source_id` is the
SHA-256 of the bytes, followed by `@<source URL>` when one is given. The same bytes ingested
again from the same source, from any path, store nothing twice; the same bytes found at another
URL are another capture (its own item with its own URL, time and note) of the one media row,
never an edit of the first. Only photos, videos and audio are accepted (by content, not by
name): anything else is rejected with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from svidok.collectors.base import Collector, CollectProblem
from svidok.foundation.archive import ItemRecord, MediaRecord
from svidok.foundation.mime import sniff
from svidok.foundation.store import sha256_file

ACCEPTED = ("image", "video", "audio")


def capture_id(sha256: str, source_url: str | None) -> str:
    """The item identity of one capture: the bytes, and where they were found when that is known."""
    return f"{sha256}@{source_url}" if source_url else sha256


class LocalFiles(Collector):
    """Reads files and folders on this machine."""

    name: ClassVar[str] = "files"
    version: ClassVar[str] = "1.0"

    def __init__(self, paths: list[Path], source_url: str | None = None, note: str | None = None,
                 max_bytes: int | None = None) -> None:
        self.paths = paths
        self.source_url = source_url
        self.note = note
        self.max_bytes = max_bytes

    def files(self) -> Iterator[Path | CollectProblem]:
        for path in self.paths:
            if path.is_dir():
                for folder, dirs, names in os.walk(path):
                    dirs.sort()
                    for name in sorted(names):
                        if not name.startswith("."):
                            yield Path(folder) / name
            elif path.exists():
                yield path
            else:
                yield CollectProblem(str(path), "no such file or folder")

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        for path in self.files():
            if isinstance(path, CollectProblem):
                yield path
                continue
            problem = self._check(path)
            if problem:
                yield CollectProblem(str(path), problem)
                continue
            try:
                sha = sha256_file(path)
            except OSError as exc:
                yield CollectProblem(str(path), f"cannot read: {exc.strerror or exc}")
                continue
            stat = path.stat()
            yield ItemRecord(
                source_kind="files",
                source_id=capture_id(sha, self.source_url),
                text=self.note or "",
                url=self.source_url,
                kind="file",
                raw={"path": str(path.resolve()), "name": path.name, "size": stat.st_size,
                     "mtime": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
                     "source_url": self.source_url, "note": self.note},
                media=[MediaRecord("file", str(path), path=path, original_name=path.name, expect=ACCEPTED)],
            )

    def _check(self, path: Path) -> str | None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        if not os.access(path, os.R_OK):
            return "cannot read: permission denied"
        if size == 0:
            return "empty file (0 bytes)"
        if self.max_bytes is not None and size > self.max_bytes:
            return f"larger than the {self.max_bytes:,}-byte limit (archive.max_file_bytes)"
        with path.open("rb") as handle:
            mime, _ = sniff(handle.read(8192), path.suffix.lstrip("."))
        if mime.split("/")[0] not in ACCEPTED:
            return f"not a photo, video or audio file (content is {mime})"
        return None
