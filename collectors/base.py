"""The collector interface: the first stage of the flow.

    sources ──collectors/──▶ archive

A collector reads one source and yields what it found: `ItemRecord`s (posts, pages, files
with their media) and `CollectProblem`s (one per thing it could not read). It never writes
to the database itself: `svidok.pipeline.run_collector` stores each item through
`svidok.foundation.archive.Archive`, so every collector gets the same idempotency, hashing and audit.
A collector that can resume keeps its position with `checkpoint()`; the pipeline saves it
after the items before it are committed. Each source kind's module also has
`collectors_for(workspace, source)`, which `svidok.collectors.sources` calls for a `[[source]]`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from svidok.foundation.archive import ItemRecord


@dataclass(frozen=True)
class CollectProblem:
    """Something the collector could not read; the run goes on."""

    where: str       # file, message id or URL
    message: str     # one clear sentence


class Collector(ABC):
    """Reads one source; yields items and problems."""

    name: ClassVar[str]
    version: ClassVar[str]

    @property
    def source_key(self) -> str:
        """Key of this source in `source_state` (checkpoints, last run)."""
        return self.name

    @abstractmethod
    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        """Yield everything found, in source order."""

    def checkpoint(self) -> dict[str, Any] | None:
        """Where to resume next time (None: nothing to remember)."""
        return None

    def deleted_at_source(self) -> list[tuple[str, str]]:
        """(source kind, source id) of archived items this run found gone from the source.

        The pipeline marks them deleted after the run (the archived copies stay)."""
        return []
