"""Keep this machine's paths out of evidence packages.

A value naming a local file (an absolute POSIX or Windows path, a home-relative one, a file:
URL) is replaced by `…/<file name>`: `scrub` walks JSON-like data and is applied to the fields
that may hold such values (provenance, audit details). `find_leaks` is the last check before a
package is sealed: no file of it may contain the workspace folder, the output folder or the
user's home folder; an export that would is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LOCAL = re.compile(r"^(?:/[^/\s]+/|~[/\\]|[A-Za-z]:[\\/]|\\\\|file:)", re.IGNORECASE)
PREFIXED = re.compile(r"^([a-z-]+:)(/[^/\s]+/.*)$")        # files:/home/..., tdesktop:/mnt/...
TEXT_SUFFIXES = {".json", ".html", ".txt", ".pdf", ".pem"}


def scrub_text(value: str) -> str:
    """`…/<file name>` for a local path (or `kind:…/<name>` for a prefixed one); other text unchanged."""
    prefixed = PREFIXED.match(value)
    if prefixed and not value.lower().startswith(("http:", "https:")):
        return prefixed.group(1) + scrub_text(prefixed.group(2))
    if not LOCAL.match(value):
        return value
    name = re.split(r"[\\/]", value.rstrip("/\\"))[-1]
    return f"…/{name}" if name else "…"


def scrub(data: Any) -> Any:
    """A copy of JSON-like data with every local path replaced (see `scrub_text`)."""
    if isinstance(data, str):
        return scrub_text(data)
    if isinstance(data, dict):
        return {k: scrub(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub(v) for v in data]
    return data


def needles(*folders: Path) -> list[str]:
    """The strings that must not appear in a package: each folder, resolved, and the home folder;
    only folders at least two levels deep (`/home/olena`, not `/root` or `/tmp`, which URLs may hold)."""
    found = {f.resolve() for f in folders} | {Path.home()}
    return sorted(str(f) for f in found if len(f.parts) > 2)


def find_leaks(root: Path, forbidden: Iterable[str]) -> list[str]:
    """Files under `root` (text and PDF) whose bytes contain any forbidden string."""
    patterns = [n.encode("utf-8") for n in forbidden]
    leaks = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            data = path.read_bytes()
            if any(p in data for p in patterns):
                leaks.append(str(path.relative_to(root)))
    return leaks
