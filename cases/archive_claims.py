"""What the audit log vouches for, folded from its entries in one pass (used by `svidok verify`).

Every function that changes a record the audit log answers for writes its entry in the same
transaction (grep `audit.append`). `fold_claims` reads those entries, oldest first, and keeps
per record the entry that last set it and a digest of the values that entry says it has:

| record (key)          | entries                                              | values vouched for                  |
|-----------------------|------------------------------------------------------|-------------------------------------|
| decision              | decision.record (details.decision), decision.amend   | sighting, reviewer (the entry's     |
|                       | (object decision:<id>)                               | actor), verdict, checklist,         |
| resolution (sighting) | decision.resolve (an admin's decision on a conflict) | observation, revealed               |
| sighting status       | decision.record / amend / resolve, sighting.settle   | the status after the entry          |
| consent, revoked      | consent.add; consent.revoke                          | person, scopes, given by; revoked   |
| case, notes, attach   | case.open; case.note; case.attach                    | person; each note's author and      |
|                       |                                                      | length; each attached sighting      |
| user                  | user.add (no function changes a name or role)        | name, role                          |
| person                | person.add                                           | name                                |
| reference, removed    | reference.enroll; consent.revoke (reference_ids)     | person, consent, photo SHA-256      |
| step (audit seq)      | person.report, family.contact / inform, person.place | what the entry records of the row   |

Only (seq, 8-byte digest) is kept per record, never the values: a difference is explained by
reading that one entry again (`expected`). Entries are read in pages by seq up to `up_to`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from svidok.foundation.workspace import Workspace

PAGE = 2000
Key = tuple[Any, ...]          # ("decision", 7), ("attach", case, sighting), ("step", seq), ...
Values = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    seq: int
    actor: str
    action: str
    object: str
    details: dict[str, Any]


@dataclass
class Claims:
    """Per record: (seq of the entry that last vouched for it, digest of its values)."""

    vouched: dict[Key, tuple[int, bytes]] = field(default_factory=dict)
    statuses: dict[int, tuple[int, str]] = field(default_factory=dict)        # sighting -> (seq, status)
    notes: dict[int, list[tuple[str, int]]] = field(default_factory=dict)    # case -> [(author, length)]
    entries: int = 0

    def take(self, key: Key) -> tuple[int, bytes] | None:
        """The claim on `key`, removed: what is left at the end has no row."""
        return self.vouched.pop(key, None)


def digest(values: Values) -> bytes:
    body = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(body.encode("utf-8"), digest_size=8).digest()


def object_id(obj: str, prefix: str) -> int | None:
    kind, _, rest = obj.partition(":")
    return int(rest) if kind == prefix and rest.isdigit() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decision_values(sighting: int | None, reviewer: str, verdict: Any, checklist: Any, observation: Any,
                    revealed: Any) -> Values:
    return {"sighting": sighting, "reviewer": reviewer, "verdict": verdict, "checklist": checklist or {},
            "observation": observation or "", "revealed": bool(revealed)}


def _decision(e: Entry) -> list[tuple[Key, Values]]:
    d = e.details
    if e.action == "decision.amend":
        sighting, decision = _int(d.get("sighting")), object_id(e.object, "decision")
    else:
        sighting, decision = object_id(e.object, "sighting"), _int(d.get("decision"))
    if e.action == "decision.resolve":
        values = decision_values(sighting, e.actor, f"resolve-{d.get('verdict')}", {}, d.get("reason"), False)
        return [(("resolution", sighting), values)]
    values = decision_values(sighting, e.actor, d.get("verdict"), d.get("checklist"), d.get("observation"),
                             d.get("revealed"))
    return [(("decision", decision), values)]


def _step(e: Entry) -> list[tuple[Key, Values]]:
    d = e.details
    if e.action == "person.report":
        values = {"person": object_id(e.object, "person"), "recipient": d.get("recipient"),
                  "reported_on": d.get("reported_on"), "reference": d.get("reference"),
                  "sightings": d.get("sightings"), "by": d.get("by")}
        return [(("step", e.seq), {"table": "person_report", **values})]
    if e.action == "person.place":
        values = {"person": object_id(e.object, "person"), "site": d.get("site"), "place": d.get("place"),
                  "seen_on": d.get("seen_on"), "sightings": d.get("sightings")}
        return [(("step", e.seq), {"table": "person_place", **values})]
    values = {"person": object_id(e.object, "family"), "kind": d.get("kind"), "contacted_on": d.get("contacted_on"),
              "channel": d.get("channel"), "relation": d.get("relation"), "by": d.get("by"),
              "follow_up_on": d.get("follow_up_on")}
    return [(("step", e.seq), {"table": "family_contact", **values})]


def _consent(e: Entry) -> list[tuple[Key, Values]]:
    cid, d = object_id(e.object, "consent"), e.details
    if e.action == "consent.revoke":
        removed = [(("removed", r), {}) for r in d.get("reference_ids") or [] if _int(r) is not None]
        return [(("revoked", cid), {}), *removed]
    return [(("consent", cid), {"person": d.get("person_id"), "scopes": sorted(d.get("scopes") or []),
                                "given_by": d.get("given_by")})]


def _simple(prefix: str, fields: dict[str, str]) -> Callable[[Entry], list[tuple[Key, Values]]]:
    """An entry whose object is `<prefix>:<id>` and whose details name the row's values."""
    def vouch(e: Entry) -> list[tuple[Key, Values]]:
        return [((prefix, object_id(e.object, prefix)), {name: e.details.get(src) for name, src in fields.items()})]
    return vouch


def _attach(e: Entry) -> list[tuple[Key, Values]]:
    return [(("attach", object_id(e.object, "case"), _int(e.details.get("sighting"))), {})]


def _reference(e: Entry) -> list[tuple[Key, Values]]:
    d = e.details
    return [(("reference", object_id(e.object, "reference")),
             {"person": d.get("person_id"), "consent": d.get("consent_id"), "photo_sha256": d.get("photo_sha256")})]


VOUCH: dict[str, Callable[[Entry], list[tuple[Key, Values]]]] = {
    "decision.record": _decision, "decision.amend": _decision, "decision.resolve": _decision,
    "consent.add": _consent, "consent.revoke": _consent,
    "case.open": _simple("case", {"person": "person"}), "case.attach": _attach,
    "user.add": _simple("user", {"name": "name", "role": "role"}),
    "person.add": _simple("person", {"name": "name"}),
    "reference.enroll": _reference,
    "person.report": _step, "person.place": _step, "family.contact": _step, "family.inform": _step,
}
STATUS_ACTIONS = ("decision.record", "decision.amend", "decision.resolve", "sighting.settle")
ACTIONS = tuple(sorted({*VOUCH, *STATUS_ACTIONS, "case.note"}))


def _status(e: Entry) -> tuple[int | None, str | None]:
    sighting = _int(e.details.get("sighting")) if e.action == "decision.amend" else object_id(e.object, "sighting")
    status = e.details.get("status")
    return sighting, status if isinstance(status, str) else None


def expected(entry: Entry, key: Key) -> Values | None:
    """What `entry` says the record `key` holds (None: it says nothing about it)."""
    return dict(VOUCH[entry.action](entry)).get(key) if entry.action in VOUCH else None


def entries(ws: Workspace, after: int = 0, up_to: int | None = None) -> Iterator[Entry]:
    """The vouching entries with after < seq <= up_to, oldest first, a page at a time."""
    marks = ",".join("?" * len(ACTIONS))
    limit = up_to if up_to is not None else ws.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
    while True:
        rows = ws.conn.execute(f"SELECT seq, actor, action, object, details FROM audit WHERE seq > ? AND seq <= ?"
                               f" AND action IN ({marks}) ORDER BY seq LIMIT ?", (after, limit, *ACTIONS, PAGE)
                               ).fetchall()
        for seq, actor, action, obj, details in rows:
            yield Entry(seq, actor, action, obj, _details(details))
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def entry_at(ws: Workspace, seq: int) -> Entry | None:
    row = ws.conn.execute("SELECT seq, actor, action, object, details FROM audit WHERE seq = ?", (seq,)).fetchone()
    return Entry(row[0], row[1], row[2], row[3], _details(row[4])) if row else None


def _details(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def fold_claims(ws: Workspace, up_to: int | None = None) -> Claims:
    """Every record the audit log vouches for, as of entry `up_to` (default: the newest)."""
    claims = Claims()
    for entry in entries(ws, 0, up_to):
        claims.entries += 1
        for key, values in VOUCH.get(entry.action, lambda e: [])(entry):
            claims.vouched[key] = (entry.seq, digest(values))
        if entry.action in STATUS_ACTIONS:
            sighting, status = _status(entry)
            if sighting is not None and status is not None:
                claims.statuses[sighting] = (entry.seq, status)
        if entry.action == "case.note":
            case = object_id(entry.object, "case")
            if case is not None:
                claims.notes.setdefault(case, []).append((entry.actor, _int(entry.details.get("length")) or 0))
    return claims
