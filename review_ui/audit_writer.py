"""Audit entries for page views, committed without stalling the event loop.

Every comparison view is audited, and its page goes out only once the entry is on disk
(SQLite's `synchronous=FULL`, PostgreSQL's synchronous commit). These entries go through a
connection of their own, used only by one worker thread: the event loop hands the entries over
and awaits them, and the thread writes them in one transaction (the write turn, the appends, COMMIT). Neither the wait for the write
lock (held by an analysis run or another request for as long as it takes) nor the disk flush
happens on the event loop. Entries that arrive while a transaction is under way wait and are
committed together by the next one (group commit): one flush serves many views, and each entry
is still durable before its page is sent. The hash chain stays intact: each transaction reads
the chain's tip inside its write turn, like every other writer (svidok/foundation/audit.py).

Entries that must share a transaction with other writes (decisions, cases) keep using
`ws.audit` on the request's own connection (review_ui/db.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from svidok.foundation.audit import AuditLog
from svidok.foundation.database import Database


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    obj: str
    details: dict[str, Any]


class AuditWriter:
    """Appends audit entries on its own connection in its own thread, one transaction at a time;
    `append` is called from the event loop (one loop at a time)."""

    def __init__(self, connect: Callable[[], Database]) -> None:
        self._connect = connect
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-commit")
        self._log: AuditLog | None = None                  # opened by the worker thread on first use
        self._waiting: list[tuple[AuditEntry, asyncio.Future[int]]] = []
        self._committing = False

    def append(self, actor: str, action: str, obj: str = "", details: dict[str, Any] | None = None
               ) -> asyncio.Future[int]:
        """Start appending one entry. Await the result (its sequence number) before showing what
        the entry records: it is set once the entry is committed."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((AuditEntry(actor, action, obj, details or {}), done))
        if not self._committing:
            self._commit_waiting()
        return done

    def _commit_waiting(self) -> None:
        """Hand the waiting entries to the worker thread, to be written in one transaction."""
        batch, self._waiting = self._waiting, []
        loop = asyncio.get_running_loop()
        try:
            work = self._thread.submit(self._write, [entry for entry, _ in batch])
        except RuntimeError as exc:  # closed: every request of the batch gets the error (as a 500)
            self._failed(batch, exc)
            return
        self._committing = True
        # straight back to the loop from the thread (an asyncio future would add a round of the loop)
        work.add_done_callback(lambda result: loop.call_soon_threadsafe(self._committed, batch, result))

    def _write(self, entries: list[AuditEntry]) -> list[int]:
        """In the worker thread: append the entries in one transaction; their sequence numbers."""
        log = self._open()
        with log.db.transaction():
            return [log.append(e.actor, e.action, e.obj, e.details) for e in entries]   # appends join it

    def _committed(self, batch: list[tuple[AuditEntry, asyncio.Future[int]]], work: Future[list[int]]) -> None:
        self._committing = False
        try:
            seqs = work.result()
        except Exception as exc:  # noqa: BLE001 - none of the batch is on record: each request gets the error
            self._failed(batch, exc)
        else:
            for (_, done), seq in zip(batch, seqs):
                if not done.done():
                    done.set_result(seq)
        if self._waiting:
            self._commit_waiting()

    @staticmethod
    def _failed(batch: list[tuple[AuditEntry, asyncio.Future[int]]], exc: BaseException) -> None:
        for _, done in batch:
            if not done.done():
                done.set_exception(exc)

    def _open(self) -> AuditLog:
        if self._log is None:
            self._log = AuditLog(self._connect())
        return self._log

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._log is not None:
            self._log.db.close()
            self._log = None
