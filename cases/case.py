"""Cases: one per missing person, holding the confirmed sightings a case officer attached,
notes, and a timeline. Used by the UI and by `svidok case ...` alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace


class CaseError(ValueError):
    """A case action was refused."""


@dataclass(frozen=True)
class CaseSummary:
    id: int
    person_id: int
    person_name: str
    officer: str | None
    created_at: str
    sightings: int


@dataclass(frozen=True)
class TimelineEntry:
    at: str            # ISO time the event happened (post date for sightings)
    kind: str          # sighting, note, opened
    text: str
    sighting_id: int | None = None


def open_case(ws: Workspace, person_id: int, officer_id: int | None, actor: str) -> tuple[int, bool]:
    """Open the case for a person; returns (case id, created). A person has one case."""
    if not ws.conn.execute("SELECT 1 FROM person WHERE id = ?", (person_id,)).fetchone():
        raise CaseError(f"no person {person_id}")
    existing = ws.conn.execute('SELECT id FROM "case" WHERE person_id = ?', (person_id,)).fetchone()
    if existing:
        return existing[0], False
    with ws.transaction():
        case_id = int(ws.conn.execute(
            'INSERT INTO "case" (person_id, officer_id, notes, created_at) VALUES (?, ?, ?, ?) RETURNING id',
            (person_id, officer_id, "[]", utc_now())).scalar_one())
        ws.audit.append(actor, "case.open", f"case:{case_id}", {"person": person_id})
    return case_id, True


def case_person(ws: Workspace, case_id: int) -> int:
    row = ws.conn.execute('SELECT person_id FROM "case" WHERE id = ?', (case_id,)).fetchone()
    if row is None:
        raise CaseError(f"no case {case_id}")
    return row[0]


def attach(ws: Workspace, case_id: int, sighting_id: int, user_id: int | None, actor: str) -> None:
    """Attach a confirmed sighting of the case's person."""
    person_id = case_person(ws, case_id)
    row = ws.conn.execute("SELECT person_id, status FROM sighting WHERE id = ?", (sighting_id,)).fetchone()
    if row is None:
        raise CaseError(f"no sighting {sighting_id}")
    if row[0] != person_id:
        raise CaseError(f"sighting {sighting_id} is a candidate for another person, not this case's")
    if row[1] != "confirmed":
        raise CaseError(f"sighting {sighting_id} is {row[1]}; only confirmed sightings join a case")
    with ws.transaction():
        cur = ws.conn.execute(
            "INSERT INTO case_sighting (case_id, sighting_id, attached_by, attached_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (case_id, sighting_id, user_id, utc_now()))
        if cur.rowcount:
            ws.audit.append(actor, "case.attach", f"case:{case_id}", {"sighting": sighting_id})


def _notes(raw: str) -> list[dict[str, Any]]:
    try:
        notes = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return [{"at": "", "by": "", "text": raw}]
    return notes if isinstance(notes, list) else []


def add_note(ws: Workspace, case_id: int, text: str, actor: str) -> None:
    if not text.strip():
        raise CaseError("the note is empty")
    with ws.transaction():
        row = ws.conn.execute('SELECT notes FROM "case" WHERE id = ?', (case_id,)).fetchone()
        if row is None:
            raise CaseError(f"no case {case_id}")
        notes = [*_notes(row[0]), {"at": utc_now(), "by": actor, "text": text.strip()}]
        ws.conn.execute('UPDATE "case" SET notes = ? WHERE id = ?', (json.dumps(notes, ensure_ascii=False), case_id))
        ws.audit.append(actor, "case.note", f"case:{case_id}", {"length": len(text.strip())})


def list_cases(ws: Workspace) -> list[CaseSummary]:
    rows = ws.conn.execute(
        'SELECT c.id, c.person_id, p.name, u.name, c.created_at, (SELECT COUNT(*) FROM case_sighting cs'
        ' WHERE cs.case_id = c.id) FROM "case" c JOIN person p ON p.id = c.person_id'
        " LEFT JOIN app_user u ON u.id = c.officer_id ORDER BY c.id").fetchall()
    return [CaseSummary(*r) for r in rows]


def get_case(ws: Workspace, case_id: int) -> CaseSummary:
    for case in list_cases(ws):
        if case.id == case_id:
            return case
    raise CaseError(f"no case {case_id}")


def case_sighting_ids(ws: Workspace, case_id: int) -> list[int]:
    return [r[0] for r in ws.conn.execute(
        "SELECT sighting_id FROM case_sighting WHERE case_id = ? ORDER BY sighting_id", (case_id,))]


def attachable(ws: Workspace, case_id: int) -> list[int]:
    """Confirmed sightings of the case's person not attached yet."""
    return [r[0] for r in ws.conn.execute(
        "SELECT id FROM sighting WHERE person_id = ? AND status = 'confirmed' AND id NOT IN"
        " (SELECT sighting_id FROM case_sighting WHERE case_id = ?) ORDER BY id", (case_person(ws, case_id), case_id))]


def timeline(ws: Workspace, case_id: int) -> list[TimelineEntry]:
    """Sightings by the date of their post (else when found), notes, and the opening, in time order."""
    row = ws.conn.execute('SELECT created_at, notes FROM "case" WHERE id = ?', (case_id,)).fetchone()
    if row is None:
        raise CaseError(f"no case {case_id}")
    entries = [TimelineEntry(row[0], "opened", "")]
    entries += [TimelineEntry(n.get("at", ""), "note", f"{n.get('by', '')}: {n.get('text', '')}") for n in _notes(row[1])]
    for sid, posted, created, channel, status in ws.conn.execute(
        "SELECT s.id, i.posted_at, s.created_at, i.channel, s.status FROM case_sighting cs JOIN sighting s"
        " ON s.id = cs.sighting_id LEFT JOIN item i ON i.id = s.item_id WHERE cs.case_id = ?", (case_id,)):
        entries.append(TimelineEntry(posted or created, "sighting", f"{channel or ''} ({status})", sid))
    return sorted(entries, key=lambda e: e.at)
