"""Reviewer decisions on sightings: blind, independent, counted.

A sighting becomes `confirmed` when `review.confirmations_needed` different reviewers
confirmed it, `rejected` when `review.rejections_needed` rejected it, and `conflict` as soon
as it holds both a confirmation and a rejection; an admin then resolves it (recorded as a
decision with verdict `resolve-confirm` or `resolve-reject`). `unsure` is recorded and counts
as that reviewer's one decision. A reviewer decides once per sighting. Each decision and
resolution is written in the same transaction as its audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from svidok.cases.roles import allowed
from svidok.cases.users import User
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace

FEATURES = ("face_shape", "hairline", "eyebrows", "eyes", "nose", "ears", "mouth", "marks")
ASSESSMENTS = ("similar", "different", "not-visible")
OPEN_STATUSES = ("pending",)


class Verdict(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    UNSURE = "unsure"


class DecisionError(ValueError):
    """A decision was refused (already decided, sighting closed, bad input, no right)."""


@dataclass(frozen=True)
class Outcome:
    decision_id: int
    status: str             # the sighting's status after this decision
    confirmations: int
    rejections: int


@dataclass(frozen=True)
class DecisionView:
    reviewer: str
    verdict: str
    checklist: dict[str, str]
    observation: str
    at: str


def clean_checklist(checklist: dict[str, Any] | None) -> dict[str, str]:
    """Validate a FISWG-style morphological checklist; missing features are left out."""
    out: dict[str, str] = {}
    for key, value in (checklist or {}).items():
        if key not in FEATURES:
            raise DecisionError(f"unknown checklist feature {key!r}")
        if value in ("", None):
            continue
        if value not in ASSESSMENTS:
            raise DecisionError(f"checklist {key}: {value!r} is not one of {', '.join(ASSESSMENTS)}")
        out[key] = value
    return out


def _counts(ws: Workspace, sighting_id: int) -> tuple[int, int]:
    row = ws.conn.execute(
        "SELECT SUM(verdict = 'confirm'), SUM(verdict = 'reject') FROM decision WHERE sighting_id = ?",
        (sighting_id,),
    ).fetchone()
    return int(row[0] or 0), int(row[1] or 0)


def status_from_counts(confirms: int, rejects: int, confirms_needed: int, rejects_needed: int) -> str:
    if confirms and rejects:
        return "conflict"
    if confirms >= confirms_needed:
        return "confirmed"
    if rejects >= rejects_needed:
        return "rejected"
    return "pending"


def has_decided(ws: Workspace, sighting_id: int, user_id: int) -> bool:
    return ws.conn.execute(
        "SELECT 1 FROM decision WHERE sighting_id = ? AND reviewer_id = ?", (sighting_id, user_id)
    ).fetchone() is not None


def record_decision(ws: Workspace, sighting_id: int, user: User, verdict: str,
                    checklist: dict[str, Any] | None = None, observation: str = "") -> Outcome:
    """Record one reviewer's independent decision and move the sighting's status."""
    if not allowed(user.role, "sighting.decide"):
        raise DecisionError(f"role {user.role} may not decide on sightings")
    try:
        verdict = Verdict(verdict).value
    except ValueError:
        raise DecisionError(f"verdict must be one of {', '.join(v.value for v in Verdict)}") from None
    cleaned = clean_checklist(checklist)
    review = ws.settings.review
    with ws.conn:
        ws.conn.execute("BEGIN IMMEDIATE")
        row = ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sighting_id,)).fetchone()
        if row is None:
            raise DecisionError(f"no sighting {sighting_id}")
        if row[0] not in OPEN_STATUSES:
            raise DecisionError(f"sighting {sighting_id} is {row[0]}; it takes no more decisions")
        if has_decided(ws, sighting_id, user.id):
            raise DecisionError(f"{user.name} already decided on sighting {sighting_id}")
        cur = ws.conn.execute(
            "INSERT INTO decision (sighting_id, reviewer_id, verdict, checklist, observation, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (sighting_id, user.id, verdict, json.dumps(cleaned), observation.strip(), utc_now()),
        )
        confirms, rejects = _counts(ws, sighting_id)
        status = status_from_counts(confirms, rejects, review.confirmations_needed, review.rejections_needed)
        if status != row[0]:
            ws.conn.execute("UPDATE sighting SET status = ?, updated_at = ? WHERE id = ?",
                            (status, utc_now(), sighting_id))
        ws.audit.append(user.name, "decision.record", f"sighting:{sighting_id}",
                        {"decision": cur.lastrowid, "verdict": verdict, "checklist": cleaned,
                         "observation": observation.strip(), "status": status})
    return Outcome(int(cur.lastrowid), status, confirms, rejects)


def resolve_conflict(ws: Workspace, sighting_id: int, admin: User, verdict: str, reason: str) -> str:
    """An admin settles a conflicting sighting as confirmed or rejected, with a reason."""
    if not allowed(admin.role, "admin"):
        raise DecisionError("only an admin resolves conflicts")
    if verdict not in (Verdict.CONFIRM, Verdict.REJECT):
        raise DecisionError("a resolution is confirm or reject")
    if not reason.strip():
        raise DecisionError("a resolution needs a reason")
    status = "confirmed" if verdict == Verdict.CONFIRM else "rejected"
    with ws.conn:
        ws.conn.execute("BEGIN IMMEDIATE")
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
    return status


def decisions_for(ws: Workspace, sighting_id: int) -> list[DecisionView]:
    rows = ws.conn.execute(
        "SELECT u.name, d.verdict, d.checklist, d.observation, d.at FROM decision d"
        " JOIN app_user u ON u.id = d.reviewer_id WHERE d.sighting_id = ? ORDER BY d.id", (sighting_id,),
    ).fetchall()
    return [DecisionView(r[0], r[1], json.loads(r[2] or "{}"), r[3], r[4]) for r in rows]


def may_see_decisions(ws: Workspace, sighting_id: int, status: str, user: User) -> bool:
    """Blind review: while a sighting is open, whoever may decide on it — admins too — sees the
    others' decisions only after deciding; those who may not decide see them once it is settled."""
    if status not in OPEN_STATUSES:
        return True
    if not allowed(user.role, "sighting.decide"):
        return False
    return has_decided(ws, sighting_id, user.id)


def hidden_from(ws: Workspace, user: User, sighting_ids: set[int]) -> set[int]:
    """Of these sightings, those whose decisions `user` may not see yet (see `may_see_decisions`)."""
    hidden = set()
    for sid in sighting_ids:
        row = ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sid,)).fetchone()
        if row is not None and not may_see_decisions(ws, sid, row[0], user):
            hidden.add(sid)
    return hidden


@dataclass(frozen=True)
class Conflict:
    id: int
    person: str
    score: float
    since: str
    decisions: list[DecisionView]


def open_conflicts(ws: Workspace) -> list[Conflict]:
    """Sightings in conflict, the oldest first, each with the decisions an admin weighs to resolve it."""
    rows = ws.conn.execute("SELECT s.id, p.name, s.score, s.updated_at FROM sighting s JOIN person p"
                           " ON p.id = s.person_id WHERE s.status = 'conflict' ORDER BY s.updated_at").fetchall()
    return [Conflict(r[0], r[1], r[2], r[3], decisions_for(ws, r[0])) for r in rows]
