"""A person's status: missing → candidate sighting → confirmed → reported → family informed.

| step      | reached when                                        | audited as                         |
|-----------|-----------------------------------------------------|------------------------------------|
| missing   | the person is recorded                              | person.add                         |
| candidate | a sighting of the person waits for review           | match.run                          |
| confirmed | reviewers confirmed a sighting of the person        | decision.record / decision.resolve |
| reported  | an officer recorded a report (ICRC, HQ, ombudsman)  | person.report                      |
| informed  | an officer recorded that the family was told        | family.inform (`cases.liaison`)    |

The first three steps follow the sighting queue (`sighting.status`); the last two are recorded
actions, each written in one transaction with its audit entry, whose sequence number the row
keeps. A recorded step is refused before a sighting of the person is confirmed, and when
dated before that confirmation or in the future. Telling the family does not wait for a
report (either may come first); a person's step is the furthest one reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from svidok.cases.recipients import RecipientError, recipient
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace

REPORT_RECIPIENTS = ("icrc", "coordination-hq", "ombudsman")


class Step(StrEnum):
    MISSING = "missing"
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REPORTED = "reported"
    INFORMED = "informed"


STEPS = tuple(Step)


class StatusError(ValueError):
    """A status step was refused (out of order, unknown person, bad value)."""


@dataclass(frozen=True)
class Confirmation:
    """What makes a person confirmed seen in captivity."""

    sighting_ids: list[int]
    confirmed_at: str               # when the first of them was confirmed
    first_seen: str | None          # the earliest post date of a confirmed sighting (else when archived)
    last_seen: str | None
    sites: list[dict[str, Any]] = field(default_factory=list)   # detention sites their reasons name

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReportInput:
    """What `person report` records."""

    person_id: int
    recipient: str                  # icrc, coordination-hq, ombudsman (optionally "icrc:Geneva CTA")
    reported_on: str                # YYYY-MM-DD
    by_whom: str
    reference: str = ""
    sighting_ids: list[int] = field(default_factory=list)   # default: every confirmed sighting
    note: str = ""


@dataclass(frozen=True)
class Uninformed:
    person_id: int
    name: str
    step: str
    confirmed_at: str
    days: int


def check_day(value: str, what: str) -> str:
    """A YYYY-MM-DD date, not later than tomorrow (UTC)."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise StatusError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None
    if day > datetime.now(UTC).date() + timedelta(days=1):
        raise StatusError(f"{what}: {value} is in the future")
    return day.isoformat()


def person_name(ws: Workspace, person_id: int) -> str:
    row = ws.conn.execute("SELECT name FROM person WHERE id = ?", (person_id,)).fetchone()
    if row is None:
        raise StatusError(f"no person with id {person_id}")
    return row[0]


_CONFIRMED = (
    "SELECT s.id, COALESCE(i.posted_at, m.first_seen, s.created_at), COALESCE((SELECT MAX(d.at) FROM decision d"
    " WHERE d.sighting_id = s.id AND d.verdict IN ('confirm', 'resolve-confirm')), s.updated_at), s.reasons"
    " FROM sighting s LEFT JOIN item i ON i.id = s.item_id LEFT JOIN media m ON m.sha256 = s.media_sha256"
    " WHERE s.person_id = ? AND s.status = 'confirmed'")


def confirmation(ws: Workspace, person_id: int) -> Confirmation | None:
    """The person's confirmed sightings, first and last date seen, and sites named; None if none."""
    rows = ws.conn.execute(_CONFIRMED, (person_id,)).fetchall()
    if not rows:
        return None
    seen = sorted(r[1] for r in rows if r[1])
    sites: dict[str, dict[str, Any]] = {}
    for row in rows:
        for reason in json.loads(row[3] or "[]"):
            if reason.get("kind") == "detention-site":
                sites.setdefault(reason["site"], {"site": reason["site"], "name": reason.get("name", ""),
                                                  "sighting_ids": []})["sighting_ids"].append(row[0])
    return Confirmation(sorted(r[0] for r in rows), min(r[2] for r in rows), seen[0] if seen else None,
                        seen[-1] if seen else None, list(sites.values()))


def require_confirmed(ws: Workspace, person_id: int, on: str, what: str) -> Confirmation:
    """The confirmation a recorded step rests on; refuses a step out of order."""
    person_name(ws, person_id)
    confirmed = confirmation(ws, person_id)
    if confirmed is None:
        raise StatusError(f"person {person_id} is {step_of(ws, person_id)}: {what} only after a sighting of the"
                          " person is confirmed by reviewers")
    if on < confirmed.confirmed_at[:10]:
        raise StatusError(f"{what} on {on} is out of order: the first sighting was confirmed on"
                          f" {confirmed.confirmed_at[:10]}")
    return confirmed


def record(ws: Workspace, table: str, values: dict[str, Any], audit: tuple[str, str, str, dict[str, Any]]) -> int:
    """Insert one recorded step with its audit entry (actor, action, object, details), atomically."""
    actor, action, obj, details = audit
    with ws.transaction():
        seq = ws.audit.append(actor, action, obj, details)
        row = {**values, "actor": actor, "audit_seq": seq, "created_at": utc_now()}
        return ws.db.insert(table, row)


def _report_recipient(value: str) -> str:
    try:
        key = recipient(value).key
    except RecipientError:
        key = ""
    if key not in REPORT_RECIPIENTS:
        raise StatusError(f"a report goes to one of {', '.join(REPORT_RECIPIENTS)}, not {value!r}")
    detail = value.split(":", 1)[1].strip() if ":" in value else ""
    return f"{key}:{detail}" if detail else key


def record_report(ws: Workspace, data: ReportInput, actor: str) -> int:
    """Record that the person was reported; refused before confirmation (see module doc)."""
    rcpt = _report_recipient(data.recipient)
    on = check_day(data.reported_on, "report date")
    if not data.by_whom.strip():
        raise StatusError("a report needs who made it")
    with ws.transaction():                      # checked and written under one write lock
        return _write_report(ws, data, rcpt, on, actor)


def _write_report(ws: Workspace, data: ReportInput, rcpt: str, on: str, actor: str) -> int:
    confirmed = require_confirmed(ws, data.person_id, on, "a report")
    sightings = sorted(set(data.sighting_ids)) or confirmed.sighting_ids
    if not set(sightings) <= set(confirmed.sighting_ids):
        raise StatusError(f"only confirmed sightings of person {data.person_id} can be reported:"
                          f" {', '.join(map(str, confirmed.sighting_ids))}")
    if data.reference.strip() and ws.conn.execute(
            "SELECT 1 FROM person_report WHERE person_id = ? AND recipient = ? AND reference = ?",
            (data.person_id, rcpt, data.reference.strip())).fetchone():
        raise StatusError(f"the report {data.reference!r} to {rcpt} is already recorded")
    details = {"recipient": rcpt, "reported_on": on, "reference": data.reference.strip(), "sightings": sightings,
               "by": data.by_whom.strip()}
    return record(ws, "person_report", {
        "person_id": data.person_id, "recipient": rcpt, "reported_on": on, "reference": data.reference.strip(),
        "sighting_ids": json.dumps(sightings), "by_whom": data.by_whom.strip(), "note": data.note.strip()},
        (actor, "person.report", f"person:{data.person_id}", details))


def reports_of(ws: Workspace, person_id: int) -> list[dict[str, Any]]:
    rows = ws.db.query("SELECT id, recipient, reported_on, reference, sighting_ids, by_whom, note, actor, audit_seq,"
                       " created_at FROM person_report WHERE person_id = ? ORDER BY reported_on, id", [person_id])
    return [{**r, "sighting_ids": json.loads(r["sighting_ids"])} for r in rows]


_FLAGS = (
    "SELECT p.id, p.name,"
    " EXISTS (SELECT 1 FROM family_contact f WHERE f.person_id = p.id AND f.kind = 'informed'),"
    " EXISTS (SELECT 1 FROM person_report r WHERE r.person_id = p.id),"
    " EXISTS (SELECT 1 FROM sighting s WHERE s.person_id = p.id AND s.status = 'confirmed'),"
    " EXISTS (SELECT 1 FROM sighting s WHERE s.person_id = p.id AND s.status IN ('pending', 'conflict'))"
    " FROM person p")


def _step(informed: int, reported: int, confirmed: int, candidate: int) -> Step:
    for flag, step in ((informed, Step.INFORMED), (reported, Step.REPORTED), (confirmed, Step.CONFIRMED),
                       (candidate, Step.CANDIDATE)):
        if flag:
            return step
    return Step.MISSING


def step_of(ws: Workspace, person_id: int) -> Step:
    row = ws.conn.execute(_FLAGS + " WHERE p.id = ?", (person_id,)).fetchone()
    if row is None:
        raise StatusError(f"no person with id {person_id}")
    return _step(*row[2:])


def step_counts(ws: Workspace) -> dict[str, int]:
    """How many persons stand at each step (every step present, zeros included)."""
    counts = dict.fromkeys((s.value for s in STEPS), 0)
    for row in ws.conn.execute(_FLAGS):
        counts[_step(*row[2:]).value] += 1
    return counts


def uninformed_after(ws: Workspace, days: int, today: date | None = None) -> list[Uninformed]:
    """Confirmed persons whose family has not been told, `days` or more days after the first confirmation."""
    today = today or datetime.now(UTC).date()
    out = []
    for row in ws.conn.execute(_FLAGS + " WHERE NOT EXISTS (SELECT 1 FROM family_contact f WHERE f.person_id = p.id"
                               " AND f.kind = 'informed') ORDER BY p.id"):
        confirmed = confirmation(ws, row[0]) if row[4] else None
        if confirmed is None:
            continue
        waited = (today - date.fromisoformat(confirmed.confirmed_at[:10])).days
        if waited >= days:
            out.append(Uninformed(row[0], row[1], _step(*row[2:]).value, confirmed.confirmed_at, waited))
    return sorted(out, key=lambda u: -u.days)
