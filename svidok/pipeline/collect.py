"""Collection runs: one collector into the archive, and the configured sources."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from svidok.foundation.archive import Archive, ItemRecord, MediaStatus, SaveResult, SaveStatus
from svidok.pipeline.feed import CollectorFeed

if TYPE_CHECKING:
    from svidok.collectors.base import Collector, CollectProblem
    from svidok.collectors.sources import Source
    from svidok.foundation.workspace import Workspace

BATCH_ITEMS = 500


@dataclass
class CollectReport:
    """What one collector run did (the `--json` of ingest/collect commands)."""

    items: int = 0
    duplicates: int = 0
    updated: int = 0
    media: int = 0
    media_missing: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "duplicates": self.duplicates, "updated": self.updated,
                "media": self.media, "media_missing": self.media_missing, "errors": self.errors}

    def merge(self, other: "CollectReport") -> None:
        self.items += other.items
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.media += other.media
        self.media_missing += other.media_missing
        self.errors.extend(other.errors)

    @property
    def did_nothing(self) -> bool:
        return not (self.items or self.duplicates or self.updated or self.media)


def run_collector(workspace: "Workspace", collector: "Collector", actor: str = "",
                  on_saved: Callable[["ItemRecord", "SaveResult"], None] | None = None,
                  on_problem: Callable[["CollectProblem"], None] | None = None) -> CollectReport:
    """Collect from one source into the archive.

    1. the collector runs in its own thread (`CollectorFeed`): its network waits never happen
       inside a transaction; what it yields arrives here in source order;
    2. each item's media go into the content store, in that thread, before the collector goes on;
    3. the items that have arrived (at most BATCH_ITEMS) are written in one short transaction,
       and the checkpoint as it stood after the last of them is saved with them;
    4. problems are reported, one line each; the run goes on;
    5. items the collector found deleted at the source are marked so (the archived copies stay).
    An error of the collector is raised after everything it yielded before has been committed.
    """
    from svidok.collectors.base import CollectProblem

    archive = Archive(workspace, collector.name, collector.version, actor)
    report = CollectReport()
    with CollectorFeed(collector, archive.store_media) as feed:                             # 2
        for batch in feed.batches(BATCH_ITEMS):                                             # 1
            items = [(found.what, found.prepared) for found in batch if not isinstance(found.what, CollectProblem)]
            with workspace.transaction():                                                   # 3
                results = [archive.save_rows(item, stored) for item, stored in items]
                if batch[-1].checkpoint is not None:
                    archive.set_checkpoint(collector.source_key, batch[-1].checkpoint, "running", 0)
            for found in batch:
                if isinstance(found.what, CollectProblem):                                  # 4
                    report.errors.append({"where": found.what.where, "error": found.what.message})
                    if on_problem:
                        on_problem(found.what)
            for (item, _), result in zip(items, results):
                _count(report, item, result)
                if on_saved:
                    on_saved(item, result)
    for source_kind, source_id in collector.deleted_at_source():                           # 5
        with workspace.transaction():
            archive.mark_deleted(source_kind, source_id)
    archive.set_checkpoint(collector.source_key, collector.checkpoint() or {}, "ok" if not report.errors else
                           "errors", report.items, [e["error"] for e in report.errors[:20]])
    return report


def _count(report: CollectReport, item: "ItemRecord", result: "SaveResult") -> None:
    report.items += result.status == SaveStatus.NEW
    report.duplicates += result.status == SaveStatus.DUPLICATE
    report.updated += result.status == SaveStatus.UPDATED
    for outcome in result.media:
        report.media += outcome.new_bytes
        if outcome.status != MediaStatus.STORED:
            report.media_missing += 1
        if outcome.reason and outcome.status == MediaStatus.REJECTED:
            report.errors.append({"where": item.media[outcome.position].source_ref or item.source_id,
                                  "error": outcome.reason})


@dataclass
class SourceRun:
    """One configured source collected once: its report, or why it failed as a whole."""

    source: "Source"
    report: CollectReport
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        status = {"status": "failed", "error": self.error} if self.error else {"status": "ok", **self.report.as_dict()}
        return {"kind": self.source.kind, "target": self.source.target, **status}


def merged_report(runs: list[SourceRun]) -> CollectReport:
    """All runs in one report; a source that failed as a whole is one error (where = its target)."""
    total = CollectReport()
    for run in runs:
        total.merge(run.report)
        if run.error:
            total.errors.append({"where": run.source.target, "error": run.error})
    return total


def collect_sources(workspace: "Workspace", sources: list["Source"], actor: str = "",
                    on_source: Callable[["Source"], None] | None = None) -> list[SourceRun]:
    """Collect each source once, resumably: the runner behind `collect --all` and every `collect KIND`.

    1. the source's kind module opens what it needs and yields the source's collectors;
    2. each collector runs through `run_collector`;
    3. a source that fails as a whole (unknown kind, bad name, no login, ...) is recorded in its
       `source_state` with the error, and the others go on.
    """
    from svidok.collectors.sources import collectors_for
    from svidok.foundation.archive import Archive

    runs = []
    for source in sources:
        if on_source:
            on_source(source)
        report = CollectReport()
        try:
            with closing(collectors_for(workspace, source)) as collectors:                 # 1
                for collector in collectors:
                    report.merge(run_collector(workspace, collector, actor))              # 2
        except Exception as exc:  # one source's failure must not stop the others         # 3
            message = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            archive = Archive(workspace, source.kind, "-")
            with workspace.transaction():
                archive.set_checkpoint(source.key, archive.get_checkpoint(source.key) or {}, "failed", 0, [message])
            runs.append(SourceRun(source, report, message))
            continue
        runs.append(SourceRun(source, report))
    return runs
