"""Reviewer decisions on sightings: deliberate, blind, independent, amendable, counted.

What a decision needs and what decisions add up to are the rules of cases/review_rules.py:
"same person" needs the full checklist, an observation and the images revealed; "not the same
person" needs a reason; the decisions on a sighting settle it as `confirmed`, `rejected`,
`conflict` (with a reason: `disagreement` or `no-result`) or leave it `pending`. An admin
resolves a conflict (recorded as a decision with verdict `resolve-confirm` or
`resolve-reject`). A reviewer decides once per sighting and may amend that decision while the
sighting is `pending`; the amendment is audited (`decision.amend`, object `decision:<id>`) with
the previous value. Each decision, amendment and resolution is written in the same transaction
as its audit entry.

Blind review: while a sighting is `pending` nobody sees the others' decisions on it — not a
reviewer who has decided (they may still amend), not an admin; everyone sees them once it is
settled. A reviewer always sees their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from svidok.cases.review_rules import (
    ASSESSMENTS,
    FEATURES,
    DecisionError,
    DecisionInput,
    IncompleteDecision,
    ReviewRule,
    Tally,
    Verdict,
    check_decision,
    clean_checklist,
    rule_for,
    settle,
)
from svidok.cases.roles import allowed
from svidok.cases.sightings import forget_queue_counts
from svidok.cases.users import User
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace

__all__ = ["ASSESSMENTS", "FEATURES", "DecisionError", "DecisionInput", "IncompleteDecision", "Verdict",
           "clean_checklist"]
OPEN_STATUSES = ("pending",)
DECISION_COLUMNS = "d.id, u.name, d.verdict, d.checklist, d.observation, d.at, d.revealed, d.amended_at"


@dataclass(frozen=True)
class Outcome:
    decision_id: int
    status: str             # the sighting's status after this decision
    confirmations: int
    rejections: int
    reason: str | None = None   # why it went to an admin, when `status` is conflict


@dataclass(frozen=True)
class DecisionView:
    reviewer: str
    verdict: str
    checklist: dict[str, str]
    observation: str
    at: str
    revealed: bool = False          # the reviewer's UI attested every image was un-blurred
    amended_at: str | None = None   # last amendment; the previous values are in the audit log


def review_rule(ws: Workspace) -> ReviewRule:
    return rule_for(ws.settings.review)


def record_decision(ws: Workspace, sighting_id: int, user: User, verdict: str,
                    checklist: dict[str, Any] | None = None, observation: str = "",
                    revealed: bool = False) -> Outcome:
    """Record one reviewer's independent decision and move the sighting's status."""
    return submit_decision(ws, sighting_id, user, DecisionInput(verdict, checklist or {}, observation, revealed))


def submit_decision(ws: Workspace, sighting_id: int, user: User, given: DecisionInput,
                    amend: bool = False) -> Outcome:
    """Record (or, with `amend`, change) `user`'s decision on a pending sighting, then settle it."""
    if not allowed(user.role, "sighting.decide"):
        raise DecisionError(f"role {user.role} may not decide on sightings")
    with ws.transaction():
        _require_open(ws, sighting_id)
        previous = _own_row(ws, sighting_id, user.id)
        if amend and previous is None:
            raise DecisionError(f"{user.name} has no decision on sighting {sighting_id} to amend")
        if not amend and previous is not None:
            raise DecisionError(f"{user.name} already decided on sighting {sighting_id}; amend it instead")
        clean = check_decision(given)
        decision_id = _amend(ws, previous, clean) if previous else _insert(ws, sighting_id, user, clean)
        outcome = _settle(ws, sighting_id, decision_id)
        details = {"verdict": clean.verdict, "checklist": clean.checklist, "observation": clean.observation,
                   "revealed": clean.revealed, "status": outcome.status, "reason": outcome.reason}
        if previous:
            ws.audit.append(user.name, "decision.amend", f"decision:{decision_id}",
                            {"sighting": sighting_id, "previous": previous["values"], **details})
        else:
            ws.audit.append(user.name, "decision.record", f"sighting:{sighting_id}",
                            {"decision": decision_id, **details})
    forget_queue_counts(ws)
    return outcome


def _require_open(ws: Workspace, sighting_id: int) -> None:
    row = ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sighting_id,)).fetchone()
    if row is None:
        raise DecisionError(f"no sighting {sighting_id}")
    if row[0] not in OPEN_STATUSES:
        raise DecisionError(f"sighting {sighting_id} is {row[0]}; it takes no more decisions or amendments")


def _own_row(ws: Workspace, sighting_id: int, user_id: int) -> dict[str, Any] | None:
    row = ws.conn.execute("SELECT id, verdict, checklist, observation, revealed FROM decision"
                          " WHERE sighting_id = ? AND reviewer_id = ?", (sighting_id, user_id)).fetchone()
    if row is None:
        return None
    return {"id": row[0], "values": {"verdict": row[1], "checklist": json.loads(row[2] or "{}"),
                                     "observation": row[3], "revealed": bool(row[4])}}


def _insert(ws: Workspace, sighting_id: int, user: User, clean: DecisionInput) -> int:
    cur = ws.conn.execute(
        "INSERT INTO decision (sighting_id, reviewer_id, verdict, checklist, observation, revealed, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (sighting_id, user.id, clean.verdict, json.dumps(clean.checklist), clean.observation, int(clean.revealed),
         utc_now()))
    return int(cur.scalar_one())


def _amend(ws: Workspace, previous: dict[str, Any], clean: DecisionInput) -> int:
    ws.conn.execute("UPDATE decision SET verdict = ?, checklist = ?, observation = ?, revealed = ?, amended_at = ?"
                    " WHERE id = ?", (clean.verdict, json.dumps(clean.checklist), clean.observation,
                                      int(clean.revealed), utc_now(), previous["id"]))
    return int(previous["id"])


def settle_open(ws: Workspace, actor: str) -> list[tuple[int, str, str | None]]:
    """Apply the review rule again to every pending sighting that has decisions — those an older
    Svidok left pending for ever (two "unsure"), or after review settings changed — and return
    (sighting, status, reason) of each one it moved, each move audited as `sighting.settle`."""
    moved = []
    for (sid,) in ws.conn.execute("SELECT DISTINCT d.sighting_id FROM decision d JOIN sighting s"
                                  " ON s.id = d.sighting_id WHERE s.status = 'pending'").fetchall():
        with ws.transaction():
            if ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sid,)).fetchone()[0] != "pending":
                continue
            outcome = _settle(ws, sid)
            if outcome.status != "pending":
                ws.audit.append(actor, "sighting.settle", f"sighting:{sid}",
                                {"status": outcome.status, "reason": outcome.reason})
                moved.append((sid, outcome.status, outcome.reason))
    return moved


def _settle(ws: Workspace, sighting_id: int, decision_id: int = 0) -> Outcome:
    """Apply cases/review_rules.py `settle` to the sighting's reviewer decisions and store the result."""
    row = ws.conn.execute("SELECT COUNT(CASE WHEN verdict = 'confirm' THEN 1 END),"
                          " COUNT(CASE WHEN verdict = 'reject' THEN 1 END),"
                          " COUNT(CASE WHEN verdict = 'unsure' THEN 1 END)"
                          " FROM decision WHERE sighting_id = ?", (sighting_id,)).fetchone()
    tally = Tally(*(int(n or 0) for n in row))
    status, reason = settle(tally, review_rule(ws))
    if status != "pending":
        ws.conn.execute("UPDATE sighting SET status = ?, conflict_reason = ?, updated_at = ? WHERE id = ?",
                        (status, reason, utc_now(), sighting_id))
    return Outcome(decision_id, status, tally.confirms, tally.rejects, reason)


def resolve_conflict(ws: Workspace, sighting_id: int, admin: User, verdict: str, reason: str) -> str:
    """An admin settles a conflicting sighting as confirmed or rejected, with a reason."""
    if not allowed(admin.role, "admin"):
        raise DecisionError("only an admin resolves conflicts")
    if verdict not in (Verdict.CONFIRM, Verdict.REJECT):
        raise DecisionError("a resolution is confirm or reject")
    if not reason.strip():
        raise DecisionError("a resolution needs a reason")
    status = "confirmed" if verdict == Verdict.CONFIRM else "rejected"
    with ws.transaction():
        row = ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sighting_id,)).fetchone()
        if row is None or row[0] != "conflict":
            raise DecisionError(f"sighting {sighting_id} is not in conflict")
        ws.conn.execute(
            "INSERT INTO decision (sighting_id, reviewer_id, verdict, checklist, observation, at)"
            " VALUES (?, ?, ?, '{}', ?, ?)", (sighting_id, admin.id, f"resolve-{verdict}", reason.strip(), utc_now()),
        )
        ws.conn.execute("UPDATE sighting SET status = ?, updated_at = ? WHERE id = ?", (status, utc_now(), sighting_id))
        ws.audit.append(admin.name, "decision.resolve", f"sighting:{sighting_id}",
                        {"verdict": verdict, "reason": reason.strip(), "status": status})
    forget_queue_counts(ws)
    return status


def _views(rows: list[Any]) -> list[DecisionView]:
    return [DecisionView(r[1], r[2], json.loads(r[3] or "{}"), r[4], r[5], bool(r[6]), r[7]) for r in rows]


def decisions_for(ws: Workspace, sighting_id: int) -> list[DecisionView]:
    rows = ws.conn.execute(f"SELECT {DECISION_COLUMNS} FROM decision d JOIN app_user u ON u.id = d.reviewer_id"
                           " WHERE d.sighting_id = ? ORDER BY d.id", (sighting_id,)).fetchall()
    return _views(rows)


def own_decision(ws: Workspace, sighting_id: int, user: User) -> DecisionView | None:
    """`user`'s own decision on a sighting (always visible to them), or None."""
    rows = ws.conn.execute(f"SELECT {DECISION_COLUMNS} FROM decision d JOIN app_user u ON u.id = d.reviewer_id"
                           " WHERE d.sighting_id = ? AND d.reviewer_id = ?", (sighting_id, user.id)).fetchall()
    return next(iter(_views(rows)), None)


def may_see_decisions(status: str) -> bool:
    """Blind review: the decisions on a sighting are seen by nobody while it is open — reviewers
    and admins who decided included, since they may still amend — and by everyone allowed to see
    the sighting once it is settled (confirmed, rejected, or in conflict for an admin to weigh)."""
    return status not in OPEN_STATUSES


def hidden_from(ws: Workspace, sighting_ids: set[int]) -> set[int]:
    """Of these sightings, those whose decisions may not be seen yet (see `may_see_decisions`)."""
    hidden = set()
    for sid in sighting_ids:
        row = ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sid,)).fetchone()
        if row is not None and not may_see_decisions(row[0]):
            hidden.add(sid)
    return hidden


@dataclass(frozen=True)
class Conflict:
    id: int
    person: str
    score: float
    since: str
    decisions: list[DecisionView]
    reason: str | None = None       # disagreement, no-result (cases/review_rules.py `settle`)


def open_conflicts(ws: Workspace) -> list[Conflict]:
    """Sightings in conflict, the oldest first, each with the decisions an admin weighs to resolve it."""
    rows = ws.conn.execute("SELECT s.id, p.name, s.score, s.updated_at, s.conflict_reason FROM sighting s"
                           " JOIN person p ON p.id = s.person_id WHERE s.status = 'conflict'"
                           " ORDER BY s.updated_at").fetchall()
    return [Conflict(r[0], r[1], r[2], r[3], decisions_for(ws, r[0]), r[4]) for r in rows]
