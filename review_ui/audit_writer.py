"""Audit entries for page views, committed without stalling the event loop.

Every comparison view is audited, and its page goes out only once the entry is on disk
(`synchronous=FULL`). Waiting for that disk flush on the event loop would stop every other
request for the few milliseconds each flush takes. So these entries go through a connection of
their own: the event loop writes the entries into a transaction (quick: no disk flush yet) and a
worker thread runs its COMMIT (the flush). Entries that arrive while a COMMIT is under way wait
and are committed together by the next transaction (group commit): one flush serves many views,
and each entry is still durable before its page is sent. Only the COMMIT runs in the thread: a
worker doing the Python part of each append would wait for the busy event loop's GIL at every
step. The hash chain stays intact: each transaction starts with BEGIN IMMEDIATE and reads the
chain's tip inside it, like every other writer (svidok/foundation/audit.py). The transaction is never left
open across an `await`, so a write on the workspace's connection waits at most for one COMMIT.

Entries that must share a transaction with other writes (decisions, cases) keep using
`ws.audit` on the workspace's connection.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from svidok.foundation.audit import AuditLog
from svidok.foundation.workspace import connect


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    obj: str
    details: dict[str, Any]


class AuditWriter:
    """Appends audit entries on its own connection: written from the event loop (one loop at a time),
    committed by a worker thread, one COMMIT at a time."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-commit")
        self._log: AuditLog | None = None                  # connection opened on first use
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
        """Write the waiting entries in one transaction and start its COMMIT in a worker thread."""
        batch, self._waiting = self._waiting, []
        loop = asyncio.get_running_loop()
        try:
            log = self._open()
            log.db.conn.execute("BEGIN IMMEDIATE")
            seqs = [log.append(e.actor, e.action, e.obj, e.details) for e, _ in batch]   # appends join it
            commit = self._thread.submit(log.db.conn.execute, "COMMIT")
        except Exception as exc:  # every request of the batch gets the error (as a 500)
            self._failed(batch, exc)
            return
        self._committing = True
        # straight back to the loop from the thread (an asyncio future would add a round of the loop)
        commit.add_done_callback(lambda result: loop.call_soon_threadsafe(self._committed, batch, seqs, result))

    def _committed(self, batch: list[tuple[AuditEntry, asyncio.Future[int]]], seqs: list[int],
                   commit: Future[Any]) -> None:
        self._committing = False
        try:
            commit.result()
        except Exception as exc:  # the flush failed: none of the batch is on record
            self._failed(batch, exc)
        else:
            for (_, done), seq in zip(batch, seqs):
                if not done.done():
                    done.set_result(seq)
        if self._waiting:
            self._commit_waiting()

    def _failed(self, batch: list[tuple[AuditEntry, asyncio.Future[int]]], exc: BaseException) -> None:
        if self._log is not None and self._log.db.conn.in_transaction:
            self._log.db.conn.execute("ROLLBACK")
        for _, done in batch:
            if not done.done():
                done.set_exception(exc)

    def _open(self) -> AuditLog:
        if self._log is None:
            self._log = AuditLog(sqlite_utils.Database(connect(self._db_path)))
        return self._log

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._log is not None:
            self._log.db.conn.close()
            self._log = None
