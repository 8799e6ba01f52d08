"""The list of sources to collect regularly (`configs/sources.toml`) and who collects each kind.

    [[source]]
    kind = "telegram-web"       # a key of COLLECTORS
    target = "some_channel"     # channel name, or URL for video pages
    language = "ru"             # ru or uk: passed to the archive and to speech recognition
    notes = "why it is watched"
    # optional: base_url (telegram-web mirror), max_pages (telegram-web)

`COLLECTORS` maps a kind to the dotted path of its runner `(workspace, Source) -> CollectReport`,
imported only when a source of that kind runs, so a kind whose extra packages are missing
fails alone. A runner is the same function its own `svidok collect KIND` command uses.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svidok.pipeline import CollectReport
    from svidok.foundation.workspace import Workspace

COLLECTORS: dict[str, str] = {
    "telegram-web": "svidok.collectors.tme_web:run_source",
    "telegram": "svidok.cli.collect_telegram:run_source",
    "video": "svidok.cli.collect_video:run_source",
}
LANGUAGES = ("ru", "uk")


class SourcesError(ValueError):
    """The sources file is missing or wrong (message names the file and the entry)."""


@dataclass(frozen=True)
class Source:
    """One entry of the sources file."""

    kind: str
    target: str
    language: str | None = None
    notes: str = ""
    base_url: str | None = None
    max_pages: int | None = None

    @property
    def key(self) -> str:
        """The collector's `source_state` key (`<kind>:<target>`)."""
        return f"{self.kind}:{self.target}"


def _source(entry: object, where: str) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: expected a table")
    unknown = set(entry) - {"kind", "target", "language", "notes", "base_url", "max_pages"}
    if unknown:
        raise SourcesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind, target = entry.get("kind"), entry.get("target")
    if not isinstance(kind, str) or not isinstance(target, str) or not target.strip():
        raise SourcesError(f"{where}: needs `kind` and `target` strings")
    language = entry.get("language")
    if language is not None and language not in LANGUAGES:
        raise SourcesError(f"{where}: language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    max_pages = entry.get("max_pages")
    if max_pages is not None and (not isinstance(max_pages, int) or max_pages < 1):
        raise SourcesError(f"{where}: max_pages must be a positive integer")
    return Source(kind, target.strip(), language, str(entry.get("notes", "")), entry.get("base_url"), max_pages)


def load_sources(path: Path) -> list[Source]:
    """Every `[[source]]` of the file, checked."""
    if not path.is_file():
        raise SourcesError(f"{path}: sources file not found (copy configs/sources.toml and edit it)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise SourcesError(f"{path}: `source` must be an array of tables ([[source]])")
    return [_source(entry, f"{path} source #{n}") for n, entry in enumerate(entries, start=1)]


def runner_for(kind: str) -> Callable[["Workspace", Source], "CollectReport"]:
    """Import the runner for `kind` (raises SourcesError for an unknown kind)."""
    if kind not in COLLECTORS:
        raise SourcesError(f"unknown collector kind {kind!r} (known: {', '.join(sorted(COLLECTORS))})")
    module, _, attr = COLLECTORS[kind].partition(":")
    return getattr(importlib.import_module(module), attr)


def run_source(workspace: "Workspace", source: Source) -> "CollectReport":
    """Collect one configured source once (resumably)."""
    return runner_for(source.kind)(workspace, source)
