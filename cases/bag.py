"""BagIt 1.0 (RFC 8493) bags, written and read here, and their one-file form (a ZIP archive).

`seal_bag` turns a folder holding `data/` into a bag: `bagit.txt` (version 1.0),
`manifest-sha256.txt` over every payload file, `bag-info.txt` (with Payload-Oxum) and
`tagmanifest-sha256.txt` over those three. Tag files added afterwards (the signature folder)
are deliberately not in the tag manifest: they sign it. `zip_bag` writes the bag into one
ZIP file whose single top folder is the bag's name, as RFC 8493 section 4 recommends for a
serialised bag; it is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from svidok.foundation.store import sha256_file

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST)


def encode_path(path: str) -> str:
    """A path as a manifest line holds it (RFC 8493 2.1.3: CR, LF and % percent-encoded)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return path.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r") \
        .replace("%25", "%")


def payload_files(bag: Path) -> Iterator[Path]:
    for path in sorted((bag / "data").rglob("*")):
        if path.is_file():
            yield path


def manifest_lines(bag: Path, paths: list[Path]) -> str:
    return "".join(f"{sha256_file(p)}  {encode_path(p.relative_to(bag).as_posix())}\n" for p in paths)


def bag_info_text(info: dict[str, str]) -> str:
    """bag-info.txt: one `Label: value` line each (values are kept on one line)."""
    return "".join(f"{k}: {' '.join(str(v).split())}\n" for k, v in info.items())


def seal_bag(bag: Path, info: dict[str, str]) -> int:
    """Write the tag files of a BagIt 1.0 bag around `bag/data`; returns the number of payload files."""
    payload = list(payload_files(bag))
    octets = sum(p.stat().st_size for p in payload)
    (bag / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    (bag / MANIFEST).write_text(manifest_lines(bag, payload), encoding="utf-8")
    full = {**info, "Bagging-Date": datetime.now(UTC).date().isoformat(), "Payload-Oxum": f"{octets}.{len(payload)}"}
    (bag / "bag-info.txt").write_text(bag_info_text(full), encoding="utf-8")
    (bag / TAGMANIFEST).write_text(manifest_lines(bag, [bag / name for name in TAG_FILES]), encoding="utf-8")
    return len(payload)


def parse_manifest(text: str) -> dict[str, str]:
    """path -> checksum; raises ValueError on a malformed line or a path listed twice."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        checksum, sep, path = line.partition(" ")
        path = decode_path(path.lstrip(" *"))
        if not sep or not path:
            raise ValueError(f"malformed manifest line: {line[:80]!r}")
        if path in entries:
            raise ValueError(f"{path} is listed twice")
        entries[path] = checksum.lower()
    return entries


def parse_bag_info(text: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep:
            info[label.strip()] = value.strip()
    return info


def zip_bag(bag: Path, target: Path) -> Path:
    """Write the bag as one ZIP file (top folder = the bag's name); returns its path."""
    tmp = target.with_name(f".{target.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(bag.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{bag.name}/{path.relative_to(bag).as_posix()}")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
