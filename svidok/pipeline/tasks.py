"""The flow's work on many machines: Celery tasks over a Redis broker (`svidok worker`).

    svidok analyze --enqueue ──▶ queue "analyze": one task per media file (by SHA-256)
    svidok collect --all --enqueue ──▶ queue "collect": one task per source
    (any caller) ──▶ queue "match": one task per enrolled reference (the retroactive search)

A task carries only what names its work (a SHA-256, a source, a reference id); each worker
opens its own copy of the workspace (a mounted shared folder: the content store is addressed
by hash, so every machine finds a file at the same relative path) and the workspace's database.
The work itself is the in-process flow's, unchanged: `analyze_one` per analyzer (gather →
compute → one short transaction), `collect_sources`, `run_match` for the reference's person.

Delivery:
- acknowledged late (`acks_late`): a task is removed from the broker only once it is done;
  a worker process that dies is reported by its parent and the task is put back at once
  (`reject_on_worker_lost`); a whole worker that dies (kill -9, power loss) leaves the task
  unacknowledged, and Redis delivers it again after `broker.visibility_timeout_s`;
- idempotent: an analyzer whose current version has done the file is skipped, and storing
  replaces an analyzer's earlier rows for the file in one transaction, so a task run twice
  leaves one set of rows; collection and matching de-duplicate by design;
- bounded: a file whose analysis its worker never finished `broker.max_deliveries` times (the
  process died each time: a decoder crash, the kernel's out-of-memory killer) is recorded as
  failed by the next worker, with that reason, instead of killing workers for ever (the count
  lives in Redis beside the queue, `DELIVERIES_PREFIX`, and is cleared when the work ends);
- retried with exponential backoff and jitter (`broker.max_retries`, `broker.retry_backoff_max_s`)
  when the workspace or its database cannot be reached yet, or the media file is not yet
  visible on this machine's mount; an analyzer failing on a file is recorded (`analysis`
  status failed) like in-process, not retried.

Models are loaded once per worker process (`InferenceModel.shared`), the analyzers built on
the process's first task and kept.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from celery import Celery, Task

    from svidok.analyzers.base import Analyzer
    from svidok.collectors.sources import Source
    from svidok.foundation.settings import BrokerSettings
    from svidok.foundation.workspace import Workspace

QUEUES = ("analyze", "collect", "match")
ANALYZE, COLLECT, MATCH = "svidok.analyze_media", "svidok.collect_source", "svidok.search_reference"
ROUTES = {ANALYZE: "analyze", COLLECT: "collect", MATCH: "match"}
QUEUED_PREFIX = "svidok:queued:"            # + task name + ":" + what: set while a task is waiting (enqueue.py)
DELIVERIES_PREFIX = "svidok:started:"       # + task name + ":" + what: analyses started and not finished
DELIVERIES_TTL_S = 14 * 24 * 3600

log = logging.getLogger("svidok.worker")


class BrokerError(ValueError):
    """No broker configured, or one Svidok cannot use (one clear line)."""


class NotYetAvailable(Exception):
    """The workspace, its database or the media file cannot be reached from this worker yet: retried."""


def check_broker_url(url: str) -> str:
    """The broker URL, if Svidok can use it (Redis only: queue depth and markers are read from Redis)."""
    if not url:
        raise BrokerError("no broker configured: set SVIDOK_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise BrokerError(f"unsupported broker {masked(url)}: Svidok uses Redis (redis://HOST:PORT/DB)")
    return url


def masked(url: str) -> str:
    """The URL without its password (for messages and status)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def make_app(broker: BrokerSettings) -> Celery:
    """The Celery app for this broker, with Svidok's three tasks registered."""
    from celery import Celery

    url = check_broker_url(broker.url)
    visibility = max(1, broker.visibility_timeout_s)
    transport = {"visibility_timeout": visibility,
                 # look for tasks of dead workers at least 4 times per visibility timeout (kombu scans
                 # every interval x throttle seconds; by default only every 100 s)
                 "unacked_restore_interval": max(1, min(10, visibility // 4)), "unacked_restore_throttle": 1,
                 "socket_connect_timeout": broker.connect_timeout_s, "socket_timeout": 60,
                 "socket_keepalive": True, "health_check_interval": 10}
    app = Celery("svidok", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_routes={name: {"queue": queue} for name, queue in ROUTES.items()}, task_default_queue="analyze",
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=24 * 3600, result_backend_transport_options=dict(transport),
        broker_transport_options=transport, broker_connection_timeout=broker.connect_timeout_s,
        broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_proc_alive_timeout=60, worker_hijack_root_logger=True, worker_redirect_stdouts=False,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
    )
    options = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}
    app.task(name=ANALYZE, **options)(analyze_media)
    app.task(name=COLLECT, **options)(collect_source)
    app.task(name=MATCH, **options)(search_reference)
    app.conf.svidok_broker = broker
    return app


# --- the worker process's state --------------------------------------------------------------

@dataclasses.dataclass
class _Worker:
    """What one worker process keeps between tasks: where the workspace is, and what it opened."""

    root: Path | None = None
    workspace: Workspace | None = None
    analyzers: list[Analyzer] | None = None
    redis: Any = None


_worker = _Worker()


def configure_worker(workspace_root: Path) -> None:
    """Called by `svidok worker` before the pool starts: its processes inherit the workspace's place."""
    _worker.root = workspace_root


def _workspace() -> Workspace:
    from svidok.foundation.workspace import Workspace, WorkspaceError, default_workspace_path

    if _worker.workspace is None:
        try:
            _worker.workspace = Workspace.open(_worker.root or default_workspace_path())
        except WorkspaceError as exc:
            raise NotYetAvailable(str(exc)) from None
    return _worker.workspace


def _analyzers() -> list[Analyzer]:
    from svidok.analyzers.registry import default_analyzers

    if _worker.analyzers is None:
        _worker.analyzers = default_analyzers()
    return _worker.analyzers


def _forget_workspace() -> None:
    """After a database error: the next attempt opens the workspace again."""
    if _worker.workspace is not None:
        try:
            _worker.workspace.close()
        except Exception:  # noqa: BLE001, S110 - a broken connection may fail to close; it is dropped anyway
            pass
        _worker.workspace = None


def _run(task: Task, marker: str, work: Any, *args: Any) -> dict[str, Any]:
    """Run `work(workspace, *args)`; retry with backoff while something is not reachable yet."""
    try:
        result = work(_workspace(), *args)
    except Exception as exc:
        retryable = isinstance(exc, NotYetAvailable) or type(exc).__name__ in ("OperationalError", "InterfaceError")
        if not retryable:
            _unmark(task, marker)
            raise
        if not isinstance(exc, NotYetAvailable):
            _forget_workspace()
        broker: BrokerSettings = task.app.conf.svidok_broker
        if task.request.retries >= broker.max_retries:
            _unmark(task, marker)
            raise
        wait = min(broker.retry_backoff_max_s, 2 ** task.request.retries) * random.uniform(0.5, 1.0)
        log.warning("%s: %s; retry %d/%d in %.1f s", task.name, exc, task.request.retries + 1, broker.max_retries,
                    wait)
        raise task.retry(exc=exc, countdown=wait, max_retries=broker.max_retries) from None
    _unmark(task, marker)
    return result


def _redis(task: Task) -> Any:
    import redis

    if _worker.redis is None:
        _worker.redis = redis.Redis.from_url(task.app.conf.broker_url, socket_connect_timeout=5, socket_timeout=5)
    return _worker.redis


def _unmark(task: Task, marker: str) -> None:
    """The task is no longer waiting: a later `--enqueue` may send it again."""
    import redis

    try:
        _redis(task).delete(QUEUED_PREFIX + marker)
    except redis.RedisError as exc:            # the marker expires by itself; the work is done
        log.warning("could not clear the queued marker %s: %s", marker, exc)


def _started(task: Task, marker: str) -> int:
    """Count one more start of this work; how many starts, this one included, never finished."""
    import redis

    key = DELIVERIES_PREFIX + marker
    try:
        with _redis(task).pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, DELIVERIES_TTL_S).execute()
        return int(count)
    except redis.RedisError as exc:            # no count: the work runs (the bound is a safety net)
        log.warning("could not count the start of %s: %s", marker, exc)
        return 1


def _finished(task: Task, marker: str) -> None:
    import redis

    try:
        _redis(task).delete(DELIVERIES_PREFIX + marker)
    except redis.RedisError as exc:
        log.warning("could not clear the start count of %s: %s", marker, exc)


# --- the tasks ---------------------------------------------------------------------------------

def analyze_media(task: Task, sha256: str, reanalyze: bool = False) -> dict[str, Any]:
    """Every analyzer that wants this file and has not done it with its current version."""
    marker = f"{ANALYZE}:{sha256}"
    return _run(task, marker, lambda ws: _analyze(ws, sha256, reanalyze, task, marker))


def _analyze(ws: Workspace, sha256: str, reanalyze: bool, task: Task, marker: str) -> dict[str, Any]:
    from svidok.pipeline.analyze import AnalysisFailed, analyze_one, media_file, record_failure

    media = media_file(ws, sha256)
    if media is None:
        raise NotYetAvailable(f"media {sha256[:16]} is not in the archive (yet)")
    if not media.path.is_file():
        raise NotYetAvailable(f"media {sha256[:16]}: {media.path} is not visible on this machine (yet)")
    outcome: dict[str, Any] = {"media_sha256": sha256, "done": [], "skipped": [], "failed": {}, "counts": {}}
    todo = []
    for analyzer in _analyzers():
        if not analyzer.wants(media):
            continue
        if not reanalyze and _already_done(ws, analyzer, sha256):
            outcome["skipped"].append(analyzer.name)
        else:
            todo.append(analyzer)
    if not todo:
        return outcome
    limit: int = task.app.conf.svidok_broker.max_deliveries
    starts = _started(task, marker)
    if limit > 0 and starts > limit:                   # every earlier worker died on it: stop here
        error = (f"not analyzed: the worker process died (crash, kill or out of memory) while analyzing this "
                 f"file {starts - 1} times; the next `svidok analyze` tries it again")
        log.error("giving up on %s: %s", sha256, error)
        for analyzer in todo:
            record_failure(ws, analyzer, media, error)
            outcome["failed"][analyzer.name] = error
        _finished(task, marker)
        return outcome
    log.info("analyzing %s", sha256)
    try:
        for analyzer in todo:
            try:
                counts = analyze_one(ws, analyzer, media)
            except AnalysisFailed as exc:             # recorded in `analysis`, like in-process; not retried
                outcome["failed"][analyzer.name] = str(exc)
                continue
            outcome["done"].append(analyzer.name)
            for key, value in counts.items():
                outcome["counts"][key] = outcome["counts"].get(key, 0) + value
    finally:                                           # ended in this process, however: not a death
        _finished(task, marker)
    return outcome


def _already_done(ws: Workspace, analyzer: Analyzer, sha256: str) -> bool:
    return ws.conn.execute("SELECT 1 FROM analysis WHERE media_sha256 = ? AND analyzer = ? AND version = ?"
                           " AND status = 'done'", (sha256, analyzer.name, analyzer.version)).fetchone() is not None


def collect_source(task: Task, source: dict[str, Any]) -> dict[str, Any]:
    """Collect one source once, resuming from its checkpoint (a failing source is recorded, not retried)."""
    return _run(task, f"{COLLECT}:{source.get('kind')}:{source.get('target')}", _collect, source)


def _collect(ws: Workspace, fields: dict[str, Any]) -> dict[str, Any]:
    from svidok.pipeline.collect import collect_sources

    source = source_from_dict(fields)
    log.info("collecting %s", source.key)
    return collect_sources(ws, [source], actor="worker:collect")[0].as_dict()


def source_as_dict(source: Source) -> dict[str, Any]:
    """A `Source` as JSON a task can carry."""
    fields = dataclasses.asdict(source)
    if isinstance(fields.get("since"), datetime):
        fields["since"] = fields["since"].isoformat()
    fields["login"] = False                     # nobody can type a login code into a worker
    return fields


def source_from_dict(fields: dict[str, Any]) -> Source:
    from svidok.collectors.sources import Source

    known = {f.name for f in dataclasses.fields(Source)}
    values = {k: v for k, v in fields.items() if k in known}
    if values.get("since"):
        values["since"] = datetime.fromisoformat(values["since"])
    return Source(**values)


def search_reference(task: Task, reference_id: int) -> dict[str, Any]:
    """The retroactive search for one enrolled reference: its person against the whole archive."""
    return _run(task, f"{MATCH}:{reference_id}", _search, reference_id)


def _search(ws: Workspace, reference_id: int) -> dict[str, Any]:
    from svidok.matching.sightings import run_match

    row = ws.conn.execute("SELECT person_id FROM reference WHERE id = ?", (reference_id,)).fetchone()
    if row is None:                            # revoked (its consent withdrawn) since it was queued
        return {"reference_id": reference_id, "skipped": "no such reference (revoked?)"}
    log.info("searching the archive for reference %d (person %d)", reference_id, row[0])
    report = run_match(ws, [row[0]], actor="worker:match")
    return {"reference_id": reference_id, "person_id": row[0], **dataclasses.asdict(report)}
