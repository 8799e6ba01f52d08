"""The analyzer and model interfaces: the second stage of the flow.

    archive ──analyzers/──▶ faces, tracks, transcript segments, derived artifacts

`InferenceModel` owns one model: lazy loading (once per process, via `shared()`), its name,
version and licence, and `predict()`. Subclasses implement only `_load` and `_predict`.

`Analyzer` adds derived records for one media file: gather → compute → store, the rows written
in one short transaction after the computing is done. `svidok.pipeline.run_analysis` calls it
for every media file that this analyzer's current version has not yet done, records success
or the error in the `analysis` table, and goes on with the next file. A `BackgroundAnalyzer`
(speech) computes in a thread while the others (faces) work, so the two use both cores. Every derived record
stores the source media SHA-256 and the analyzer/model name and version.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace


class AnalysisError(Exception):
    """This media file cannot be analyzed (corrupt, unsupported, too large); one clear line."""


class InferenceModel(ABC):
    """One model, loaded lazily and at most once per process per set of parameters."""

    name: ClassVar[str]
    version: ClassVar[str]
    licence: ClassVar[str]

    _instances: ClassVar[dict[tuple, "InferenceModel"]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, **params: Any) -> None:
        self.params = params
        self._model: Any = None
        self._load_lock = threading.Lock()

    @classmethod
    def shared(cls, **params: Any) -> "InferenceModel":
        """The process-wide instance for these parameters."""
        key = (cls, tuple(sorted(params.items())))
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(**params)
            return cls._instances[key]

    @property
    def loaded(self) -> Any:
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        return self._predict(self.loaded, *args, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "version": self.version, "licence": self.licence, "params": self.params}

    @abstractmethod
    def _load(self) -> Any:
        """Load and return the model object."""

    @abstractmethod
    def _predict(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the model."""


@dataclass(frozen=True)
class MediaFile:
    """A stored media file, as an analyzer sees it."""

    sha256: str
    path: Path
    mime: str
    language: str | None = None          # from the source's configuration, when known
    duration_s: float | None = None


@dataclass
class AnalysisOutcome:
    """Counts of what one analyzer added for one file."""

    counts: dict[str, int] = field(default_factory=dict)


class Analyzer(ABC):
    """Adds derived records for one media file, in three steps, so that no database lock is
    held while it computes:

        gather (reads the workspace) ──▶ compute (the heavy part; no database) ──▶ store (writes rows)

    `store` runs inside the pipeline's short transaction for the file. A `background` analyzer's
    `compute` may run in another thread beside the other analyzers (its model must release the
    GIL while it computes), so it must not touch the workspace at all.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    accepts: ClassVar[tuple[str, ...]] = ("image", "video", "audio")   # MIME major types
    background: ClassVar[bool] = False

    def params(self) -> dict[str, Any]:
        """Parameters that change results (stored with every record)."""
        return {}

    def wants(self, media: MediaFile) -> bool:
        return media.mime.split("/")[0] in self.accepts

    def gather(self, media: MediaFile, workspace: "Workspace") -> Any:
        """What `compute` needs from the workspace (called in the workspace's thread)."""
        return None

    @abstractmethod
    def compute(self, media: MediaFile, gathered: Any) -> Any:
        """The heavy part: no database access (it may put derived files into a content store)."""

    @abstractmethod
    def store(self, media: MediaFile, computed: Any, workspace: "Workspace") -> AnalysisOutcome:
        """Write the derived records (in the caller's transaction)."""

    def clear(self, media: MediaFile, workspace: "Workspace") -> None:
        """Remove this analyzer's earlier records for the file (before `store`, in its transaction)."""


class BackgroundAnalyzer(Analyzer):
    """An analyzer whose `compute` runs in the pipeline's thread beside the other analyzers."""

    background: ClassVar[bool] = True
