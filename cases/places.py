"""The place of detention on a person's timeline: confirmed by a case officer, never guessed.

Sightings carry *proposed* places (reasons of kind `detention-site`, from the post text and
transcript, `svidok.matching.places`); `Confirmation.sites` gathers those of the confirmed
sightings. A case officer who has established where the person is (or was) held records it
here — a site of the gazetteer (`configs/detention_sites.toml`) by its key, or a place the
gazetteer does not list, by name — with the date the person was known to be there and the
confirmed sightings it rests on. Like every recorded step it is refused before a sighting is
confirmed, and audited (`person.place`). The newest by date is the person's current place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svidok.cases.person_status import StatusError, check_day, record, require_confirmed
from svidok.foundation.workspace import Workspace
from svidok.matching.places import load_gazetteer


@dataclass(frozen=True)
class PlaceInput:
    """What `person place` records: a gazetteer site key or a place name (one of the two)."""

    person_id: int
    seen_on: str                                          # YYYY-MM-DD the person was known to be there
    site_key: str | None = None
    place: str | None = None
    sighting_ids: list[int] = field(default_factory=list)  # default: every confirmed sighting
    note: str = ""


def _place_name(data: PlaceInput, gazetteer_path: Path | None) -> tuple[str | None, str]:
    if bool(data.site_key) == bool(data.place and data.place.strip()):
        raise StatusError("give either a gazetteer site (--site) or a place not listed there (--place)")
    if not data.site_key:
        return None, data.place.strip()
    gazetteer = load_gazetteer(gazetteer_path)
    site = gazetteer.get(data.site_key)
    if site is None:
        known = ", ".join(s.key for s in gazetteer.sites) or "none: configs/detention_sites.toml not found"
        raise StatusError(f"no detention site {data.site_key!r} in the gazetteer (known: {known})")
    return site.key, site.name


def record_place(ws: Workspace, data: PlaceInput, actor: str, gazetteer_path: Path | None = None) -> int:
    """Record the confirmed place of detention; refused before confirmation."""
    site_key, name = _place_name(data, gazetteer_path)
    on = check_day(data.seen_on, "date seen there")
    with ws.transaction():
        confirmed = require_confirmed(ws, data.person_id, on, "a place of detention")
        sightings = sorted(set(data.sighting_ids)) or confirmed.sighting_ids
        if not set(sightings) <= set(confirmed.sighting_ids):
            raise StatusError(f"a place rests on confirmed sightings of person {data.person_id}:"
                              f" {', '.join(map(str, confirmed.sighting_ids))}")
        details = {"site": site_key, "place": name, "seen_on": on, "sightings": sightings}
        return record(ws, "person_place", {
            "person_id": data.person_id, "site_key": site_key, "place": name, "seen_on": on,
            "sighting_ids": json.dumps(sightings), "note": data.note.strip()},
            (actor, "person.place", f"person:{data.person_id}", details))


def places_of(ws: Workspace, person_id: int) -> list[dict[str, Any]]:
    """Confirmed places of detention, oldest first (the last is the current one)."""
    rows = ws.db.query("SELECT id, site_key, place, seen_on, sighting_ids, note, actor, audit_seq, created_at"
                       " FROM person_place WHERE person_id = ? ORDER BY seen_on, id", [person_id])
    return [{**r, "sighting_ids": json.loads(r["sighting_ids"])} for r in rows]
