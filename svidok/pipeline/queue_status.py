"""The task queue at a glance: tasks waiting per queue, tasks taken, workers answering.

Read straight from Redis (kombu keeps a queue as a list, one more list per priority step, and
the tasks a worker has taken but not yet acknowledged in the hash `unacked`); workers are those
that answer a broadcast ping within `ping_timeout` seconds. A broker that does not answer gives
`reachable: false` and the error, never an exception: the archive's status is shown all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from svidok.pipeline.tasks import QUEUES, masked

if TYPE_CHECKING:
    from svidok.foundation.settings import BrokerSettings


@dataclass
class QueueStatus:
    broker: str                                   # the URL, password masked
    reachable: bool
    error: str | None = None
    depth: dict[str, int] = field(default_factory=dict)      # tasks waiting, per queue
    taken: int = 0                                # delivered to a worker, not yet acknowledged
    workers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        if not self.reachable:
            return {"broker": self.broker, "reachable": False, "error": self.error}
        return {"broker": self.broker, "reachable": True, "depth": self.depth, "taken": self.taken,
                "workers": self.workers}


def queue_status(broker: BrokerSettings, ping_timeout: float = 1.0) -> QueueStatus:
    import redis
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    from svidok.pipeline.enqueue import redis_client
    from svidok.pipeline.tasks import make_app

    app = make_app(broker)
    status = QueueStatus(masked(broker.url), True)
    try:
        client = redis_client(app)
        with client.pipeline() as pipe:
            for queue in QUEUES:
                for step in PRIORITY_STEPS:
                    pipe.llen(queue if not step else f"{queue}{Channel.sep}{step}")
            pipe.hlen(Channel.unacked_key)
            lengths = pipe.execute()
    except redis.RedisError as exc:
        return QueueStatus(masked(broker.url), False, f"broker unreachable: {exc}")
    per = len(PRIORITY_STEPS)
    status.depth = {q: sum(lengths[i * per:(i + 1) * per]) for i, q in enumerate(QUEUES)}
    status.taken = lengths[-1]
    try:
        replies = app.control.ping(timeout=ping_timeout)
    except Exception as exc:  # noqa: BLE001 - the broker went away between the two reads
        return QueueStatus(masked(broker.url), False, f"broker unreachable: {exc}")
    status.workers = sorted(name for reply in replies for name in reply)
    return status
