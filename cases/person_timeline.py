"""One person's timeline: every step of `cases.person_status`, in date order, with who acted.

    recorded as missing → candidate sightings → each confirmed sighting (and who confirmed it)
    → reports → confirmed places of detention → the family told

`person_status` gathers the summary `svidok person show` and the review UI display (step,
confirmation, reports, current place, family told); `person_timeline` the events. The family
liaison log's content (to whom, what was said, other contacts) is included only with
`liaison=True`, which callers pass only for case officers and admins
(`cases.liaison.may_read`); without it, the `informed` step shows its date, channel and who spoke.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from svidok.cases.liaison import Contact, contacts
from svidok.cases.person_status import confirmation, person_name, reports_of, step_of
from svidok.cases.places import places_of
from svidok.foundation.workspace import Workspace

# within one day (recorded steps carry a date only) events follow the flow's order
ORDER = ("missing", "candidate", "contact", "consent", "confirmed", "reported", "place", "informed")


@dataclass(frozen=True)
class TimelineEvent:
    at: str                              # ISO date or time the event happened
    step: str                            # missing, candidate, confirmed, reported, place, informed, contact, consent
    text: str
    actor: str = ""                      # who acted (reviewers for a confirmation)
    audit_seq: int | None = None         # the audit entry of a recorded step
    sighting_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def person_status(ws: Workspace, person_id: int, liaison: bool = False) -> dict[str, Any]:
    """Where the person stands: the step and what each recorded step holds."""
    confirmed = confirmation(ws, person_id)
    places = places_of(ws, person_id)
    told = contacts(ws, person_id, ("informed",))
    return {"step": step_of(ws, person_id).value, "confirmation": confirmed.as_dict() if confirmed else None,
            "reports": reports_of(ws, person_id), "place": places[-1] if places else None,
            "informed": [_contact(c, liaison) for c in told]}


def _contact(c: Contact, liaison: bool) -> dict[str, Any]:
    if liaison:
        return c.as_dict()
    return {"id": c.id, "kind": c.kind, "contacted_on": c.contacted_on, "by_whom": c.by_whom, "channel": c.channel,
            "follow_up_on": c.follow_up_on, "audit_seq": c.audit_seq}


def person_timeline(ws: Workspace, person_id: int, liaison: bool = False) -> list[TimelineEvent]:
    """Every event of the person's status, oldest first (same day: in the flow's order)."""
    name = person_name(ws, person_id)
    events = [_missing(ws, person_id, name), *_candidates(ws, person_id), *_confirmations(ws, person_id)]
    events += [TimelineEvent(r["reported_on"], "reported", _report_text(r), r["actor"], r["audit_seq"],
                             r["sighting_ids"]) for r in reports_of(ws, person_id)]
    events += [TimelineEvent(p["seen_on"], "place", f"place of detention confirmed: {p['place']}", p["actor"],
                             p["audit_seq"], p["sighting_ids"]) for p in places_of(ws, person_id)]
    shown = ("informed", "contact", "consent") if liaison else ("informed",)
    events += [TimelineEvent(c.contacted_on, c.kind, _liaison_text(c, liaison), c.actor, c.audit_seq)
               for c in contacts(ws, person_id, shown)]
    return sorted(events, key=lambda e: (e.at[:10], ORDER.index(e.step), e.at))


def _missing(ws: Workspace, person_id: int, name: str) -> TimelineEvent:
    on, where, created = ws.conn.execute(
        "SELECT disappeared_on, disappeared_at, created_at FROM person WHERE id = ?", (person_id,)).fetchone()
    audit = ws.conn.execute("SELECT seq, actor FROM audit WHERE action = 'person.add' AND object = ?",
                            (f"person:{person_id}",)).fetchone()
    text = f"{name} recorded as missing" + (f"; disappeared {on}" if on else "") + (f" near {where}" if where else "")
    return TimelineEvent(created, "missing", text, audit[1] if audit else "", audit[0] if audit else None)


def _candidates(ws: Workspace, person_id: int) -> list[TimelineEvent]:
    rows = ws.conn.execute("SELECT id, created_at, status FROM sighting WHERE person_id = ? AND status != 'withdrawn'"
                           " ORDER BY created_at, id", (person_id,)).fetchall()
    if not rows:
        return []
    waiting = sum(r[2] in ("pending", "conflict") for r in rows)
    text = f"first candidate sighting {rows[0][0]}; {len(rows)} in all, {waiting} awaiting review"
    return [TimelineEvent(rows[0][1], "candidate", text, "matching", None, [r[0] for r in rows])]


def _confirmations(ws: Workspace, person_id: int) -> list[TimelineEvent]:
    confirmed = confirmation(ws, person_id)
    events = []
    for sid in confirmed.sighting_ids if confirmed else []:
        seen, channel, reasons = ws.conn.execute(
            "SELECT COALESCE(i.posted_at, s.created_at), i.channel, s.reasons FROM sighting s LEFT JOIN item i"
            " ON i.id = s.item_id WHERE s.id = ?", (sid,)).fetchone()
        decided = ws.conn.execute(
            f"SELECT MAX(d.at), {ws.db.string_agg('u.name', ', ')}"
            " FROM decision d JOIN app_user u ON u.id = d.reviewer_id"
            " WHERE d.sighting_id = ? AND d.verdict IN ('confirm', 'resolve-confirm')", (sid,)).fetchone()
        sites = sorted({r.get("name", "") for r in json.loads(reasons or "[]") if r.get("kind") == "detention-site"})
        text = f"sighting {sid} confirmed: seen {seen[:10]}" + (f" ({channel})" if channel else "") + \
            (f"; places named: {', '.join(sites)}" if sites else "")
        at = decided[0] or ws.conn.execute("SELECT updated_at FROM sighting WHERE id = ?", (sid,)).fetchone()[0]
        events.append(TimelineEvent(at, "confirmed", text, decided[1] or "", None, [sid]))
    return events


def _report_text(r: dict[str, Any]) -> str:
    ref = f", reference {r['reference']}" if r["reference"] else ""
    return f"reported to {r['recipient']}{ref} by {r['by_whom']}"


def _liaison_text(c: Contact, liaison: bool) -> str:
    follow = f"; follow up on {c.follow_up_on}" if c.follow_up_on else ""
    what = {"informed": "family informed", "contact": "contact with the family", "consent": "consent conversation"}
    if not liaison:
        return f"{what[c.kind]} by {c.by_whom} ({c.channel}){follow}"
    relation = f" ({c.relation})" if c.relation else ""
    return f"{what[c.kind]}: {c.by_whom} spoke with {c.family_member}{relation} by {c.channel}: {c.summary}{follow}"
