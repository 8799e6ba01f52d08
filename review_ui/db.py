"""A request's database work runs in a worker thread, on a connection of that thread's own.

The event loop serves every request of the UI, so a query run there holds up all of them, and
one that waits for SQLite's write lock (an analysis run writing, a decision being committed)
froze the whole UI until the lock came free or the wait ran out ("database is locked").
So views hand their database work, as one function taking a `Workspace`, to
`run_db(request, work, ...)`: it runs in Starlette's thread pool on a Workspace borrowed from
the app's `WorkspacePool` for that one call. Each pooled Workspace has its own SQLite
connection, used by one thread at a time; its busy timeout (`connect()` in
svidok/foundation/workspace.py) makes a write wait for a writer elsewhere instead of failing,
and in WAL mode reads do not wait at all. The loop meanwhile serves everything else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from svidok.foundation.workspace import Workspace

P = ParamSpec("P")
T = TypeVar("T")


class WorkspacePool:
    """Workspaces on the served workspace's database, one per worker thread at a time. A pool
    grows to the number of requests running at once (the thread pool's size) and no further."""

    def __init__(self, served: Workspace) -> None:
        self._served = served
        self._idle: list[Workspace] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def borrow(self) -> Iterator[Workspace]:
        """A Workspace for this thread alone until the block ends."""
        with self._lock:
            ws = self._idle.pop() if self._idle else None
        if ws is None:
            ws = Workspace(self._served.root, self._served.settings)
        ws.settings = self._served.settings          # settings changed on the served workspace apply at once
        try:
            yield ws
        finally:
            ws.conn.rollback()                       # work that failed half-way leaves no lock behind
            self._give_back(ws)

    def call(self, work: Callable[Concatenate[Workspace, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.borrow() as ws:
            return work(ws, *args, **kwargs)

    def _give_back(self, ws: Workspace) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(ws)
                return
        ws.close()

    def close(self) -> None:
        """Close the idle connections; those still borrowed close when given back."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for ws in idle:
            ws.close()


async def run_db(request: Request, work: Callable[Concatenate[Workspace, P], T],
                 *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(ws, *args, **kwargs)` in a worker thread, on a pooled Workspace of the request's app."""
    pool: WorkspacePool = request.app.state.db
    return await run_in_threadpool(pool.call, work, *args, **kwargs)
