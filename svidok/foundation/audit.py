"""The audit log: append-only, each entry hash-chained to the one before it.

hash = sha256(prev_hash + canonical JSON of (seq, at, actor, action, object, details)).
Triggers refuse UPDATE and DELETE on the table (TRUNCATE too on PostgreSQL); `verify()` recomputes the chain and
so also detects edits made around the triggers (another tool, a dropped trigger) and entries
removed from the middle. Removing the newest entries leaves a shorter valid chain: `verify()`
reports the tip hash, and evidence exports record it, so a later shorter chain is visible.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from svidok.foundation.clock import utc_now
from svidok.foundation.database import Database

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    entries: int
    tip: str
    problems: list[AuditProblem]


def _entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, obj: str, details: str) -> str:
    body = json.dumps([seq, at, actor, action, obj, details], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class AuditLog:
    """Append and verify audit entries. Appends join the caller's transaction if one is open."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, actor: str, action: str, obj: str = "", details: dict[str, Any] | None = None) -> int:
        details_json = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str)
        conn = self.db
        with conn.transaction():
            tip = conn.audit_tip                    # known while this transaction holds the write turn
            if tip is None or tip[0] != conn.transaction_number:
                last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                tip = (conn.transaction_number, *(last or (0, GENESIS)))
            seq, prev = tip[1] + 1, tip[2]
            at = utc_now()
            digest = _entry_hash(prev, seq, at, actor, action, obj, details_json)
            conn.execute(
                "INSERT INTO audit (seq, at, actor, action, object, details, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, action, obj, details_json, prev, digest),
            )
            conn.audit_tip = (conn.transaction_number, seq, digest)
            return seq

    def verify(self) -> AuditReport:
        problems: list[AuditProblem] = []
        prev, expected_seq, count = GENESIS, 1, 0
        rows = self.db.execute(
            "SELECT seq, at, actor, action, object, details, prev_hash, hash FROM audit ORDER BY seq"
        )
        for seq, at, actor, action, obj, details, prev_hash, digest in rows:
            count += 1
            if seq != expected_seq:
                problems.append(AuditProblem(seq, f"entries {expected_seq}..{seq - 1} are missing"))
            if prev_hash != prev:
                problems.append(AuditProblem(seq, "does not chain to the previous entry"))
            if _entry_hash(prev_hash, seq, at, actor, action, obj, details) != digest:
                problems.append(AuditProblem(seq, "content was changed after it was written"))
            prev, expected_seq = digest, seq + 1
        return AuditReport(not problems, count, prev, problems)

    def entries(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT seq, at, actor, action, object, details FROM audit ORDER BY seq DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [
            {"seq": r[0], "at": r[1], "actor": r[2], "action": r[3], "object": r[4], "details": json.loads(r[5])}
            for r in rows
        ]
