"""Analysis runs: every analyzer over the media files its current version has not done."""

from __future__ import annotations

import os

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from svidok.analyzers.base import Analyzer, MediaFile
    from svidok.foundation.workspace import Workspace


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


MEDIA_FILE_COLUMNS = ("m.sha256, m.path, m.mime,"
                      " (SELECT i.language FROM item_media im JOIN item i ON i.id = im.item_id"
                      "   WHERE im.media_sha256 = m.sha256 AND i.language IS NOT NULL LIMIT 1)")


def media_file(workspace: "Workspace", sha256: str) -> "MediaFile | None":
    """One archived media file as the analyzers see it (None when the archive has no such file)."""
    from svidok.analyzers.base import MediaFile

    row = workspace.conn.execute(f"SELECT {MEDIA_FILE_COLUMNS} FROM media m WHERE m.sha256 = ?", (sha256,)).fetchone()
    return None if row is None else MediaFile(row[0], workspace.path(row[1]), row[2], row[3])


def pending_media(workspace: "Workspace", analyzer: "Analyzer", reanalyze: bool = False) -> list["MediaFile"]:
    """Media files this analyzer's current version has not done yet (all of them with reanalyze)."""
    from svidok.analyzers.base import MediaFile

    rows = workspace.conn.execute(
        f"SELECT {MEDIA_FILE_COLUMNS}"
        " FROM media m WHERE ? = 1 OR NOT EXISTS (SELECT 1 FROM analysis a WHERE a.media_sha256 = m.sha256"
        "   AND a.analyzer = ? AND a.version = ? AND a.status = 'done')"
        " ORDER BY m.first_seen",
        (reanalyze, analyzer.name, analyzer.version),
    ).fetchall()
    media = [MediaFile(sha, workspace.path(path), mime, language) for sha, path, mime, language in rows]
    return [m for m in media if analyzer.wants(m)]


def analyze_one(workspace: "Workspace", analyzer: "Analyzer", media: "MediaFile",
                computed: "Future | None" = None) -> dict[str, int]:
    """Run one analyzer on one file; its rows and the `analysis` record commit together.

    1. the analyzer gathers what it needs and computes, with no transaction open (a background
       analyzer has done this in its thread: `computed`, whose error, if any, is raised here);
    2. in one short transaction: earlier rows of this analyzer for the file are cleared, the
       derived records written and the `analysis` row says done;
    3. on any error that transaction is rolled back and, in another, the `analysis` row says
       failed, with the error.
    """
    import json

    from svidok.analyzers.base import AnalysisError
    from svidok.foundation.clock import utc_now

    started = utc_now()
    params = json.dumps(analyzer.params(), sort_keys=True)
    try:
        result = computed.result() if computed is not None else \
            analyzer.compute(media, analyzer.gather(media, workspace))                       # 1
        with workspace.transaction():                                                       # 2
            analyzer.clear(media, workspace)
            outcome = analyzer.store(media, result, workspace)
            _record(workspace, analyzer, media, params, "done", None, started)
    except Exception as exc:  # an analyzer bug must not stop the run: record it by name     # 3
        error = str(exc) if isinstance(exc, AnalysisError) else f"{type(exc).__name__}: {exc}"
        with workspace.transaction():
            _record(workspace, analyzer, media, params, "failed", error, started)
        raise AnalysisFailed(error) from None
    return outcome.counts


def _record(workspace: "Workspace", analyzer: "Analyzer", media: "MediaFile", params: str, status: str,
            error: str | None, started: str) -> None:
    from svidok.foundation.clock import utc_now

    workspace.conn.execute(
        "INSERT INTO analysis (media_sha256, analyzer, version, params, status, error, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(media_sha256, analyzer, version) DO UPDATE SET"
        " params = excluded.params, status = excluded.status, error = excluded.error,"
        " started_at = excluded.started_at, finished_at = excluded.finished_at",
        (media.sha256, analyzer.name, analyzer.version, params, status, error, started, utc_now()),
    )


def record_failure(workspace: "Workspace", analyzer: "Analyzer", media: "MediaFile", error: str) -> None:
    """Record that `analyzer` failed on `media` without running it (e.g. it killed its workers)."""
    import json

    from svidok.foundation.clock import utc_now

    with workspace.transaction():
        _record(workspace, analyzer, media, json.dumps(analyzer.params(), sort_keys=True), "failed", error, utc_now())


class AnalysisFailed(Exception):
    """One file failed in one analyzer (already recorded in `analysis`)."""


def run_analysis(workspace: "Workspace", analyzers: list["Analyzer"], reanalyze: bool = False,
                 on_file: Callable[[str, "MediaFile"], None] | None = None) -> AnalysisReport:
    """Analyze every media file not yet done by each analyzer's current version.

    1. for each analyzer, list the files it still has to do;
    2. background analyzers (speech) compute in one thread, file after file, while the others
       (faces) work in this one: two cores busy instead of one;
    3. analyze each file (computed with no transaction open, stored in one short transaction
       per file and analyzer, always in this thread: a background result is stored as soon as
       it is ready between foreground files);
    4. a failing file is recorded with its error and the run goes on.
    """
    from concurrent.futures import ThreadPoolExecutor, wait

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

    background = [a for a in analyzers if a.background]
    foreground = [a for a in analyzers if not a.background]
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


def _start(pool: "ThreadPoolExecutor", analyzer: "Analyzer", media: "MediaFile",
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


def yield_cpu(nice: int) -> int:
    """Lower this process's CPU priority by `nice` (inherited by its workers); the resulting niceness.

    Analysis is background work on a machine where reviewers and collectors want answers now."""
    if nice <= 0 or not hasattr(os, "nice"):
        return os.nice(0) if hasattr(os, "nice") else 0
    return os.nice(min(nice, 19))
