"""The list of sources to collect regularly (`configs/sources.toml`) and who collects each kind.

    [[source]]
    kind = "telegram-web"       # a key of KINDS
    target = "some_channel"     # channel name, or URL for video pages
    language = "ru"             # ru or uk: passed to the archive and to speech recognition
    notes = "why it is watched"
    # optional: base_url (telegram-web mirror), max_pages (telegram-web)

`KINDS` maps a kind to the one module that collects it. Each such module has
`collectors_for(workspace, source) -> Iterator[Collector]`: it opens what the kind needs (a
Telegram client, say), yields the collectors for the source and closes it again when the
generator is closed. The module is imported only when a source of its kind runs, so a kind whose
extra packages are missing fails alone. `svidok collect --all` and each `svidok collect KIND`
command build `Source`s and hand them to the same runner, `svidok.pipeline.collect_source`.

Adding a source kind: one new module in collectors/ with a `Collector` and `collectors_for`, and
one line in `KINDS` (plus, if it wants one, a `collect KIND` command in svidok/cli/collect.py).
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svidok.collectors.base import Collector
    from svidok.foundation.workspace import Workspace

KINDS: dict[str, str] = {
    "telegram-web": "svidok.collectors.tme_web",
    "telegram": "svidok.collectors.telethon_channel",
    "video": "svidok.collectors.video_page",
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
    # Set by the `collect KIND` commands' options (not read from the sources file):
    since: datetime | None = None          # telegram: on a channel's first run, only posts after this
    login: bool = False                    # telegram: log in interactively if the session is not
    browser_only: bool = False             # video: skip yt-dlp, open the page in Chromium

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


def collectors_for(workspace: "Workspace", source: Source) -> Iterator["Collector"]:
    """The collectors of one source, from its kind's module (raises SourcesError for an unknown kind)."""
    if source.kind not in KINDS:
        raise SourcesError(f"unknown collector kind {source.kind!r} (known: {', '.join(sorted(KINDS))})")
    return importlib.import_module(KINDS[source.kind]).collectors_for(workspace, source)
