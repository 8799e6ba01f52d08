"""The runs of the flow, each one short function with numbered steps.

    collect → hash and store → analyze → match → queue for review

Stages talk only through the workspace, so any run can be repeated or resumed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from svidok.foundation.archive import Archive, ItemRecord, MediaStatus, SaveResult, SaveStatus

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from svidok.analyzers.base import Analyzer, BackgroundAnalyzer, MediaFile
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

    1. the collector yields items and problems, in source order;
    2. each item's media go into the content store, then its rows are written
       (in batches of BATCH_ITEMS per transaction);
    3. after each batch commits, the collector's checkpoint is saved;
    4. problems are reported, one line each; the run goes on;
    5. items the collector found deleted at the source are marked so (the archived copies stay).
    """
    from svidok.collectors.base import CollectProblem

    archive = Archive(workspace, collector.name, collector.version, actor)
    report = CollectReport()
    pending = 0
    conn = workspace.conn

    def commit() -> None:
        nonlocal pending
        if conn.in_transaction:
            conn.execute("COMMIT")
        checkpoint = collector.checkpoint()
        if checkpoint is not None:
            archive.set_checkpoint(collector.source_key, checkpoint, "running", 0)
        pending = 0

    try:
        for found in collector.collect():                                   # 1
            if isinstance(found, CollectProblem):                           # 4
                report.errors.append({"where": found.where, "error": found.message})
                if on_problem:
                    on_problem(found)
                continue
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            result = archive.save_item(found)                               # 2
            report.items += result.status == SaveStatus.NEW
            report.duplicates += result.status == SaveStatus.DUPLICATE
            report.updated += result.status == SaveStatus.UPDATED
            for outcome in result.media:
                report.media += outcome.new_bytes
                if outcome.status != MediaStatus.STORED:
                    report.media_missing += 1
                if outcome.reason and outcome.status == MediaStatus.REJECTED:
                    report.errors.append({"where": found.media[outcome.position].source_ref or found.source_id,
                                          "error": outcome.reason})
            if on_saved:
                on_saved(found, result)
            pending += 1
            if pending >= BATCH_ITEMS:
                commit()                                                    # 3
        commit()
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    for source_kind, source_id in collector.deleted_at_source():                 # 5
        with workspace.transaction():
            archive.mark_deleted(source_kind, source_id)
    archive.set_checkpoint(collector.source_key, collector.checkpoint() or {}, "ok" if not report.errors else
                           "errors", report.items, [e["error"] for e in report.errors[:20]])
    return report


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


@dataclass
class AnalysisReport:
    """What one `svidok analyze` run did."""

    analyzed: int = 0
    failed: int = 0
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"analyzed": self.analyzed, "failed": self.failed, "faces": self.counts.get("faces", 0),
                "tracks": self.counts.get("tracks", 0), "transcripts": self.counts.get("transcripts", 0),
                "counts": self.counts, "errors": self.errors}


def pending_media(workspace: "Workspace", analyzer: "Analyzer", reanalyze: bool = False) -> list["MediaFile"]:
    """Media files this analyzer's current version has not done yet (all of them with reanalyze)."""
    from svidok.analyzers.base import MediaFile

    rows = workspace.conn.execute(
        "SELECT m.sha256, m.path, m.mime,"
        " (SELECT i.language FROM item_media im JOIN item i ON i.id = im.item_id"
        "   WHERE im.media_sha256 = m.sha256 AND i.language IS NOT NULL LIMIT 1)"
        " FROM media m WHERE ? OR NOT EXISTS (SELECT 1 FROM analysis a WHERE a.media_sha256 = m.sha256"
        "   AND a.analyzer = ? AND a.version = ? AND a.status = 'done')"
        " ORDER BY m.first_seen",
        (reanalyze, analyzer.name, analyzer.version),
    ).fetchall()
    media = [MediaFile(sha, workspace.path(path), mime, language) for sha, path, mime, language in rows]
    return [m for m in media if analyzer.wants(m)]


def analyze_one(workspace: "Workspace", analyzer: "Analyzer", media: "MediaFile",
                computed: "Future | None" = None) -> dict[str, int]:
    """Run one analyzer on one file; its rows and the `analysis` record commit together.

    1. earlier rows of this analyzer for the file are cleared;
    2. the analyzer writes its derived records (for a background analyzer: stores what its
       thread `computed`, whose error, if any, is raised here);
    3. the `analysis` row says done (or, after a rollback, failed with the error).
    """
    import json

    from svidok.analyzers.base import AnalysisError
    from svidok.foundation.clock import utc_now

    conn = workspace.conn
    started = utc_now()
    params = json.dumps(analyzer.params(), sort_keys=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        analyzer.clear(media, workspace)                                     # 1
        if computed is None:
            outcome = analyzer.analyze(media, workspace)                     # 2
        else:
            outcome = analyzer.store(media, computed.result(), workspace)
        status, error = "done", None
    except AnalysisError as exc:
        conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        outcome, status, error = None, "failed", str(exc)
    except Exception as exc:  # an analyzer bug must not stop the run: record it by name
        conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        outcome, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
    conn.execute(                                                            # 3
        "INSERT INTO analysis (media_sha256, analyzer, version, params, status, error, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(media_sha256, analyzer, version) DO UPDATE SET"
        " params = excluded.params, status = excluded.status, error = excluded.error,"
        " started_at = excluded.started_at, finished_at = excluded.finished_at",
        (media.sha256, analyzer.name, analyzer.version, params, status, error, started, utc_now()),
    )
    conn.execute("COMMIT")
    if error is not None:
        raise AnalysisFailed(error)
    return outcome.counts if outcome else {}


class AnalysisFailed(Exception):
    """One file failed in one analyzer (already recorded in `analysis`)."""


def run_analysis(workspace: "Workspace", analyzers: list["Analyzer"], reanalyze: bool = False,
                 on_file: Callable[[str, "MediaFile"], None] | None = None) -> AnalysisReport:
    """Analyze every media file not yet done by each analyzer's current version.

    1. for each analyzer, list the files it still has to do;
    2. background analyzers (speech) compute in one thread, file after file, while the others
       (faces) work in this one: two cores busy instead of one;
    3. analyze each file (one transaction per file and analyzer, always in this thread: a
       background result is stored as soon as it is ready between foreground files);
    4. a failing file is recorded with its error and the run goes on.
    """
    from concurrent.futures import ThreadPoolExecutor, wait

    from svidok.analyzers.base import BackgroundAnalyzer

    report = AnalysisReport()
    failed_files: set[str] = set()
    done_files: set[str] = set()

    def analyze(analyzer: "Analyzer", media: "MediaFile", computed: "Future | None" = None) -> None:
        if on_file:
            on_file(analyzer.name, media)
        try:
            counts = analyze_one(workspace, analyzer, media, computed)
        except AnalysisFailed as exc:                                                       # 4
            failed_files.add(media.sha256)
            report.errors.append({"media_sha256": media.sha256, "analyzer": analyzer.name, "error": str(exc)})
            return
        done_files.add(media.sha256)
        for key, value in counts.items():
            report.counts[key] = report.counts.get(key, 0) + value

    background = [a for a in analyzers if isinstance(a, BackgroundAnalyzer)]
    foreground = [a for a in analyzers if not isinstance(a, BackgroundAnalyzer)]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-analyze")
    try:
        jobs = deque((analyzer, media, _start(pool, analyzer, media, workspace))             # 1, 2
                     for analyzer in background for media in pending_media(workspace, analyzer, reanalyze))
        for analyzer in foreground:
            for media in pending_media(workspace, analyzer, reanalyze):                      # 1
                analyze(analyzer, media)                                                     # 3
                while jobs and jobs[0][2].done():
                    analyze(*jobs.popleft())
        while jobs:
            wait([jobs[0][2]])                  # outside the file's transaction: no lock held meanwhile
            analyze(*jobs.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report.failed = len(failed_files)
    report.analyzed = len(done_files - failed_files)
    return report


def _start(pool: "ThreadPoolExecutor", analyzer: "BackgroundAnalyzer", media: "MediaFile",
           workspace: "Workspace") -> "Future":
    """Queue one background computation; an error while gathering its inputs becomes its result."""
    from concurrent.futures import Future

    try:
        gathered = analyzer.gather(media, workspace)
    except Exception as exc:  # recorded for this file when stored, like any analyzer error
        failed: Future = Future()
        failed.set_exception(exc)
        return failed
    return pool.submit(analyzer.compute, media, gathered)
