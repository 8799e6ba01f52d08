"""Missing persons and the consent that allows searching for them.

Nothing is searched for a person without an active consent whose scopes include
`identification`. Revoking a consent (`matching.revocation`) removes what rests on it:
its reference photos' rows, embeddings and files (copies in exported packages included),
withdraws unreviewed sightings that rest on them and marks confirmed ones. Photo files are
deleted right after the revocation's commit; if the process dies in between,
`sweep_orphan_references` (run by every enroll, match and revoke) deletes files that no
reference row points at.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from svidok.foundation.clock import utc_now

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

CATEGORIES = ("serviceman", "civilian", "child")
SCOPES = ("identification", "court", "share-icrc", "share-ombudsman", "publication")
UNREVIEWED = ("pending", "conflict")


class PersonError(ValueError):
    """A person or consent is missing or a value is invalid (one clear line)."""


@dataclass(frozen=True)
class PersonInput:
    """What `person add` records."""

    name: str
    name_variants: list[str] = field(default_factory=list)
    born: str | None = None
    category: str | None = None
    unit: str | None = None
    disappeared_on: str | None = None
    disappeared_at: str | None = None
    register_number: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class Person(PersonInput):
    id: int = 0
    created_at: str = ""

    @property
    def all_names(self) -> list[str]:
        return [self.name, *self.name_variants]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConsentInput:
    """What `consent add` records."""

    person_id: int
    given_by: str
    relation: str
    given_on: str
    scopes: list[str] = field(default_factory=lambda: ["identification"])
    document_ref: str | None = None


def check_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise PersonError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None


def check_born(value: str | None, what: str = "--born") -> str | None:
    """A date of birth: YYYY-MM-DD, or the year alone (YYYY) where a register knows no more."""
    if value is None or re.fullmatch(r"\d{4}", value):
        return value
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise PersonError(f"{what}: expected YYYY-MM-DD or YYYY, got {value!r}") from None


def add_person(ws: "Workspace", data: PersonInput, actor: str = "cli") -> int:
    if not data.name.strip():
        raise PersonError("a person needs a name")
    if data.category is not None and data.category not in CATEGORIES:
        raise PersonError(f"category must be one of {', '.join(CATEGORIES)}, not {data.category!r}")
    row = {**asdict(data), "name_variants": json.dumps(data.name_variants, ensure_ascii=False),
           "born": check_born(data.born), "disappeared_on": check_date(data.disappeared_on, "--disappeared-on"),
           "created_at": utc_now()}
    with ws.transaction():
        person_id = ws.db.insert("person", row)
        ws.audit.append(actor, "person.add", f"person:{person_id}", {"name": data.name})
    return int(person_id)


def _person(row: dict[str, Any]) -> Person:
    return Person(**{**row, "name_variants": json.loads(row["name_variants"] or "[]")})


def get_person(ws: "Workspace", person_id: int) -> Person:
    rows = list(ws.db.query("SELECT * FROM person WHERE id = ?", (person_id,)))
    if not rows:
        raise PersonError(f"no person with id {person_id}")
    return _person(rows[0])


def list_persons(ws: "Workspace") -> list[Person]:
    return [_person(r) for r in ws.db.query("SELECT * FROM person ORDER BY id")]


def add_consent(ws: "Workspace", data: ConsentInput, actor: str = "cli") -> int:
    get_person(ws, data.person_id)
    unknown = [s for s in data.scopes if s not in SCOPES]
    if unknown or not data.scopes:
        raise PersonError(f"unknown consent scope {', '.join(unknown) or '(none)'}; use {', '.join(SCOPES)}")
    if not data.given_by.strip() or not data.relation.strip():
        raise PersonError("consent needs --given-by and --relation")
    row = {**asdict(data), "given_on": check_date(data.given_on, "--date"),
           "scopes": json.dumps(sorted(set(data.scopes))), "created_at": utc_now()}
    with ws.transaction():
        consent_id = ws.db.insert("consent", row)
        ws.audit.append(actor, "consent.add", f"consent:{consent_id}",
                        {"person_id": data.person_id, "scopes": sorted(set(data.scopes)), "given_by": data.given_by})
    return int(consent_id)


def consents_of(ws: "Workspace", person_id: int) -> list[dict[str, Any]]:
    rows = ws.db.query("SELECT * FROM consent WHERE person_id = ? ORDER BY id", (person_id,))
    return [{**r, "scopes": json.loads(r["scopes"]), "active": r["revoked_at"] is None} for r in rows]


def active_consent(ws: "Workspace", person_id: int, scope: str = "identification") -> int | None:
    """The newest unrevoked consent of the person that covers `scope`."""
    row = ws.conn.execute(
        "SELECT id FROM consent WHERE person_id = ? AND revoked_at IS NULL"
        f" AND EXISTS (SELECT 1 FROM {ws.db.json_values('consent.scopes')} WHERE CAST(value AS TEXT) = ?)"
        " ORDER BY id DESC LIMIT 1",
        (person_id, scope)).fetchone()
    return row[0] if row else None


def searchable_person_ids(ws: "Workspace") -> list[int]:
    """Persons with an active identification consent: the only ones matching may look for."""
    return [r[0] for r in ws.conn.execute(
        "SELECT DISTINCT person_id FROM consent WHERE revoked_at IS NULL"
        f" AND EXISTS (SELECT 1 FROM {ws.db.json_values('consent.scopes')} WHERE CAST(value AS TEXT) = 'identification')"
        " ORDER BY person_id")]


def sweep_orphan_references(ws: "Workspace") -> int:
    """Delete reference photo files that no reference row points at; returns how many.

    Runs under the write lock, and enrollment stores a photo and inserts its row under the
    same lock, so a file without a row here is a leftover of a revocation or a crash.
    """
    root = ws.references.root
    if not root.exists():
        return 0
    removed = 0
    with ws.transaction():
        known = {r[0] for r in ws.conn.execute("SELECT photo_sha256 FROM reference")}
        for path in root.rglob("*.*"):
            sha = path.name.split(".")[0]
            if path.is_file() and not path.name.startswith(".") and sha not in known:
                ws.references.remove(sha, path.name.split(".", 1)[1])
                removed += 1
    return removed
