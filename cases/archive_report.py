"""The result of `svidok verify` (cases/archive_verify.py): problems, each a kind and one line.

| kind            | means                                                                          |
|-----------------|--------------------------------------------------------------------------------|
| file-missing    | a row points at a stored file that is not there                                |
| file-changed    | a stored file's bytes no longer hash to its name (its SHA-256)                 |
| file-unexpected | a file in a store whose name is no SHA-256, or a row whose path is not its own |
| audit-chain     | the audit log's hash chain is broken (svidok/foundation/audit.py `verify`)     |
| audit-tip       | an evidence package in exports/ recorded an audit tip the log no longer has    |
| audit-anchor    | an RFC 3161 anchor of the audit tip does not check, or the log no longer has   |
|                 | the hash it anchored (cases/audit_anchor_check.py)                             |
| row-unaudited   | a row the audit log should vouch for has no entry (written behind its back)    |
| row-changed     | a row differs from what its newest audit entry recorded                        |
| row-missing     | an audit entry recorded a row the database no longer has                       |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("file-missing", "file-changed", "file-unexpected", "audit-chain", "audit-tip", "audit-anchor",
         "row-unaudited", "row-changed", "row-missing")


@dataclass(frozen=True)
class Problem:
    kind: str
    what: str


@dataclass
class Problems:
    """Problems as found; every one is counted, the first `limit` are kept (a wrecked archive can
    have millions, and the first ones say what happened)."""

    limit: int = 1000
    items: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, kind: str, what: str) -> None:
        assert kind in KINDS, kind
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(Problem(kind, what))


@dataclass(frozen=True)
class ArchiveReport:
    files_checked: int                 # stored files re-hashed
    bytes_checked: int
    rows_checked: int                  # rows compared with the audit log
    audit_entries: int
    audit_tip: str
    problems: list[Problem]
    problems_total: int

    @property
    def ok(self) -> bool:
        return self.problems_total == 0

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files_checked": self.files_checked, "bytes_checked": self.bytes_checked,
                "rows_checked": self.rows_checked, "audit_entries": self.audit_entries, "audit_tip": self.audit_tip,
                "problems": [{"kind": p.kind, "what": p.what} for p in self.problems],
                "problems_total": self.problems_total}
