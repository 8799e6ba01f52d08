"""A collector's items, handed over from the thread that collects them.

A collector waits on the network (pages, downloads, Telegram's flood waits) between items.
`CollectorFeed` runs `collector.collect()` in its own thread, so those waits never happen while
the writer holds the database's write lock; the writer takes whatever has arrived, in batches.
Each item travels with the collector's checkpoint as it stood right after the item was yielded,
so the checkpoint the writer saves covers exactly the items it has committed, and with what
`prepare` made of it in the collector's thread before the collector went on: the pipeline puts
the item's media into the content store there, since a collector may delete its downloaded file
once it is resumed.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from svidok.collectors.base import Collector, CollectProblem
    from svidok.foundation.archive import ItemRecord

QUEUE_ITEMS = 1000          # at most this many found items wait for the writer (bounds memory)
PUT_POLL_S = 0.2


@dataclass(frozen=True)
class Found:
    """One thing the collector yielded, and its checkpoint right after it."""

    what: "ItemRecord | CollectProblem"
    checkpoint: dict[str, Any] | None
    prepared: Any = None             # `prepare(item)`, for items


@dataclass(frozen=True)
class _Ended:
    error: BaseException | None = None


class CollectorFeed:
    """`collector.collect()` in a thread; `batches()` in the caller's thread."""

    def __init__(self, collector: "Collector", prepare: Callable[["ItemRecord"], Any]) -> None:
        self.collector = collector
        self.prepare = prepare
        self.queue: queue.Queue[Found | _Ended] = queue.Queue(QUEUE_ITEMS)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._produce, name=f"svidok-collect-{collector.name}", daemon=True)

    def __enter__(self) -> "CollectorFeed":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()               # a collector still running stops at its next item
        self.thread.join(timeout=5)

    def batches(self, max_items: int) -> Iterator[list[Found]]:
        """Blocks (holding nothing) for the next item, then takes what else has arrived, up to
        `max_items`. An error of the collector is raised after the items found before it."""
        while True:
            batch: list[Found] = []
            ended: _Ended | None = None
            first = self.queue.get()
            while True:
                if isinstance(first, _Ended):
                    ended = first
                    break
                batch.append(first)
                if len(batch) >= max_items:
                    break
                try:
                    first = self.queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
            if ended is not None:
                if ended.error is not None:
                    raise ended.error
                return

    def _produce(self) -> None:
        from svidok.collectors.base import CollectProblem

        try:
            found = self.collector.collect()
            for what in found:
                checkpoint = _snapshot(self.collector.checkpoint())
                prepared = None if isinstance(what, CollectProblem) else self.prepare(what)
                if not self._put(Found(what, checkpoint, prepared)):
                    found.close()
                    return
        except BaseException as exc:  # handed to the writer's thread, which raises it
            self._put(_Ended(exc))
            return
        self._put(_Ended())

    def _put(self, entry: Found | _Ended) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(entry, timeout=PUT_POLL_S)
                return True
            except queue.Full:
                continue
        return False


def _snapshot(checkpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy the collector's later progress cannot change."""
    return None if checkpoint is None else json.loads(json.dumps(checkpoint, default=str))
