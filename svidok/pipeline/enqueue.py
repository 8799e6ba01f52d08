"""Sending work to the workers instead of doing it here (`--enqueue`).

1. the broker must answer (else `BrokerUnreachable`, nothing sent);
2. what is waiting is listed as in-process (`pending_media` per analyzer, the sources file, ...);
3. a task already waiting in the queue is not sent twice: a marker `svidok:queued:<task>:<what>`
   is set (SET NX, expiring after the visibility timeout) beside each message, and the worker
   clears it when the task is done; a re-run of `--enqueue` sends only what is not waiting;
4. every task goes out over one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from svidok.pipeline.tasks import ANALYZE, COLLECT, MATCH, QUEUED_PREFIX, ROUTES, masked, source_as_dict

if TYPE_CHECKING:
    from celery import Celery

    from svidok.collectors.sources import Source
    from svidok.foundation.workspace import Workspace


class BrokerUnreachable(ConnectionError):
    """The broker did not answer (one clear line naming it)."""


@dataclass(frozen=True)
class Enqueued:
    """What one `--enqueue` sent."""

    enqueued: int
    already_queued: int
    queue: str

    def as_dict(self) -> dict[str, Any]:
        return {"enqueued": self.enqueued, "already_queued": self.already_queued, "queue": self.queue}


def redis_client(app: Celery):
    """A plain Redis client on the broker, failing fast when it is away."""
    import redis

    broker = app.conf.svidok_broker
    return redis.Redis.from_url(broker.url, socket_connect_timeout=broker.connect_timeout_s,
                                socket_timeout=broker.connect_timeout_s + 5)


def check_reachable(app: Celery) -> None:
    import redis

    try:
        redis_client(app).ping()
    except redis.RedisError as exc:
        raise BrokerUnreachable(f"broker unreachable at {masked(app.conf.broker_url)}: {exc}") from None


def enqueue_analysis(ws: Workspace, app: Celery, reanalyze: bool = False) -> Enqueued:
    """One analyze task per media file that some analyzer still has to do."""
    from svidok.analyzers.registry import default_analyzers
    from svidok.pipeline.analyze import pending_media

    check_reachable(app)                                                                # 1
    wanted: dict[str, None] = {}
    for analyzer in default_analyzers():                                                # 2
        wanted.update(dict.fromkeys(m.sha256 for m in pending_media(ws, analyzer, reanalyze)))
    return _send(app, ANALYZE, [(sha, [sha, reanalyze]) for sha in wanted])


def enqueue_sources(app: Celery, sources: list[Source]) -> Enqueued:
    """One collect task per source."""
    check_reachable(app)
    return _send(app, COLLECT, [(f"{s.kind}:{s.target}", [source_as_dict(s)]) for s in sources])


def enqueue_reference_searches(app: Celery, reference_ids: list[int]) -> Enqueued:
    """One retroactive-search task per enrolled reference."""
    check_reachable(app)
    return _send(app, MATCH, [(str(r), [r]) for r in reference_ids])


def _send(app: Celery, name: str, tasks: list[tuple[str, list[Any]]]) -> Enqueued:
    client = redis_client(app)
    expiry = app.conf.svidok_broker.visibility_timeout_s
    sent = skipped = 0
    with app.producer_or_acquire() as producer:                                         # 4
        for what, args in tasks:
            marker = f"{QUEUED_PREFIX}{name}:{what}"
            if not client.set(marker, "1", nx=True, ex=expiry):                          # 3
                skipped += 1
                continue
            try:
                app.send_task(name, args=args, producer=producer)
            except Exception as exc:  # noqa: BLE001 - kombu's connection errors vary by transport
                client.delete(marker)
                raise BrokerUnreachable(f"broker unreachable at {masked(app.conf.broker_url)} after {sent} "
                                        f"task(s) sent: {exc}") from None
            sent += 1
    return Enqueued(sent, skipped, ROUTES[name])
