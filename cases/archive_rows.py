"""Rows against the audit log (used by `svidok verify`): each table the audit log vouches for is
read in pages by its key and every row compared with its claim (cases/archive_claims.py).

- a row with no claim was written behind Svidok's back (`row-unaudited`);
- a row whose values differ from its newest entry's was changed behind its back (`row-changed`);
- a claim left when every row was read is a row deleted behind its back (`row-missing`), except
  reference photos a recorded consent revocation removed.

A sighting's status is held to the rule of how statuses move: confirmed, rejected and conflict
are reached only by audited decisions (`decision.record` / `amend` / `resolve`,
`sighting.settle`), so such a status must be the one the newest of them recorded. Pending and
withdrawn are reached unaudited per sighting (matching raises, withdraws and reopens them in
bulk, audited as `match.run`), so they are only refused after a decision confirmed or rejected
the sighting; a withdrawn sighting always carries the note saying why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from svidok.cases.archive_claims import Claims, Key, Values, decision_values, digest, entry_at, expected
from svidok.cases.archive_report import Problems
from svidok.foundation.workspace import Workspace

PAGE = 2000
SETTLED = ("confirmed", "rejected", "conflict")


def _json(raw: str | None, default: Any) -> Any:
    try:
        return json.loads(raw) if raw else default
    except ValueError:
        return raw


@dataclass(frozen=True)
class Table:
    """One table: its rows (key columns first) and, per row, the claim keys to try and its values."""

    name: str
    select: str
    keys: tuple[str, ...]
    read: Callable[[tuple], tuple[list[Key], Values]]


def _decision(r: tuple) -> tuple[list[Key], Values]:
    return [("decision", r[0]), ("resolution", r[1])], decision_values(r[1], r[2], r[3], _json(r[4], {}), r[5], r[6])


def _consent(r: tuple) -> tuple[list[Key], Values]:
    scopes = _json(r[2], [])
    return [("consent", r[0])], {"person": r[1], "scopes": sorted(scopes) if isinstance(scopes, list) else scopes,
                                 "given_by": r[3]}


def _step(table: str, names: tuple[str, ...]) -> Callable[[tuple], tuple[list[Key], Values]]:
    def read(r: tuple) -> tuple[list[Key], Values]:
        values = {"table": table, **dict(zip(names, r[2:], strict=True))}
        if "sightings" in values:
            values["sightings"] = _json(values["sightings"], [])
        return [("step", r[1])], values
    return read


TABLES = (
    Table("decision", "SELECT d.id, d.sighting_id, u.name, d.verdict, d.checklist, d.observation, d.revealed"
          " FROM decision d LEFT JOIN app_user u ON u.id = d.reviewer_id", ("d.id",), _decision),
    Table("consent", "SELECT id, person_id, scopes, given_by FROM consent", ("id",), _consent),
    Table("user", "SELECT id, name, role FROM app_user", ("id",),
          lambda r: ([("user", r[0])], {"name": r[1], "role": r[2]})),
    Table("person", "SELECT id, name FROM person", ("id",), lambda r: ([("person", r[0])], {"name": r[1]})),
    Table("case", 'SELECT id, person_id FROM "case"', ("id",), lambda r: ([("case", r[0])], {"person": r[1]})),
    Table("case attachment", "SELECT case_id, sighting_id FROM case_sighting", ("case_id", "sighting_id"),
          lambda r: ([("attach", r[0], r[1])], {})),
    Table("reference", "SELECT id, person_id, consent_id, photo_sha256 FROM reference", ("id",),
          lambda r: ([("reference", r[0])], {"person": r[1], "consent": r[2], "photo_sha256": r[3]})),
    Table("person_report", "SELECT id, audit_seq, person_id, recipient, reported_on, reference, sighting_ids, by_whom"
          " FROM person_report", ("id",),
          _step("person_report", ("person", "recipient", "reported_on", "reference", "sightings", "by"))),
    Table("family_contact", "SELECT id, audit_seq, person_id, kind, contacted_on, channel, relation, by_whom,"
          " follow_up_on FROM family_contact", ("id",),
          _step("family_contact", ("person", "kind", "contacted_on", "channel", "relation", "by", "follow_up_on"))),
    Table("person_place", "SELECT id, audit_seq, person_id, site_key, place, seen_on, sighting_ids FROM person_place",
          ("id",), _step("person_place", ("person", "site", "place", "seen_on", "sightings"))),
)


def pages(ws: Workspace, select: str, keys: tuple[str, ...], tail: str = "") -> Iterator[tuple]:
    """Rows of `select` (its first columns are `keys`) in key order, a page at a time."""
    order = ", ".join(keys)
    rows = ws.conn.execute(f"{select} {tail} ORDER BY {order} LIMIT ?", (PAGE,)).fetchall()
    while rows:
        yield from rows
        if len(rows) < PAGE:
            return
        last = rows[-1][:len(keys)]
        if len(keys) == 1:
            after, args = f"{keys[0]} > ?", last
        else:
            after, args = f"({keys[0]} > ? OR ({keys[0]} = ? AND {keys[1]} > ?))", (last[0], last[0], last[1])
        where = f"{tail} AND {after}" if tail else f"WHERE {after}"
        rows = ws.conn.execute(f"{select} {where} ORDER BY {order} LIMIT ?", (*args, PAGE)).fetchall()


def _label(key: Key) -> str:
    kind, *ids = key
    names = {"attach": "attachment of sighting {1} to case {0}", "resolution": "an admin's resolution of sighting {0}",
             "step": "the status step of audit entry {0}"}
    return names.get(kind, kind + " {0}").format(*ids)


def explain(ws: Workspace, key: Key, actual: Values, seq: int) -> str:
    """One line naming each value that differs between the row and audit entry `seq`."""
    entry = entry_at(ws, seq)
    wanted = expected(entry, key) if entry else None
    if wanted is None:
        return f"{_label(key)} differs from audit entry {seq}"
    plain = json.loads(json.dumps(actual, default=str))
    diffs = [f"{name} is {plain.get(name)!r} in the database but {wanted.get(name)!r} in audit entry {seq}"
             for name in sorted(set(wanted) | set(plain)) if plain.get(name) != wanted.get(name)]
    return f"{_label(key)}: {'; '.join(diffs)}"


def check_table(ws: Workspace, table: Table, claims: Claims, problems: Problems) -> int:
    rows = 0
    for row in pages(ws, table.select, table.keys):
        rows += 1
        keys, values = table.read(row)
        found = next(((k, claim) for k in keys if (claim := claims.take(k)) is not None), None)
        if found is None:
            problems.add("row-unaudited", f"{_label(keys[0])} has no audit entry: it was written behind Svidok's back")
        elif digest(values) != found[1][1]:
            problems.add("row-changed", explain(ws, found[0], values, found[1][0]))
    return rows


def check_sightings(ws: Workspace, claims: Claims, problems: Problems) -> int:
    rows = 0
    for sid, status, note in pages(ws, "SELECT id, status, evidence_note FROM sighting", ("id",)):
        rows += 1
        seq, audited = claims.statuses.pop(sid, (None, None))
        if status in SETTLED and audited is None:
            problems.add("row-unaudited", f"sighting {sid} is {status}, but no audit entry records a decision"
                         " that settled it")
        elif status in SETTLED and status != audited:
            problems.add("row-changed", f"sighting {sid} is {status} in the database but {audited} in audit entry {seq}")
        elif status not in SETTLED and audited in ("confirmed", "rejected"):
            problems.add("row-changed", f"sighting {sid} is {status} in the database, but audit entry {seq} settled"
                         f" it as {audited}")
        elif status == "withdrawn" and not note:
            problems.add("row-changed", f"sighting {sid} is withdrawn with no note saying why (every withdrawal"
                         " writes one)")
        elif status not in (*SETTLED, "pending", "withdrawn"):
            problems.add("row-changed", f"sighting {sid} has the unknown status {status!r}")
    return rows


def check_revocations_and_notes(ws: Workspace, claims: Claims, problems: Problems) -> None:
    """A consent is revoked exactly when a revocation was audited; a case's notes are those audited."""
    for cid, revoked_at in pages(ws, "SELECT id, revoked_at FROM consent", ("id",)):
        audited = claims.take(("revoked", cid))
        if revoked_at is not None and audited is None:
            problems.add("row-unaudited", f"consent {cid} is revoked in the database, but no audit entry records"
                         " its revocation")
        elif revoked_at is None and audited is not None:
            problems.add("row-changed", f"consent {cid} is active in the database, but audit entry {audited[0]}"
                         " revoked it")
    for case, raw in pages(ws, 'SELECT id, notes FROM "case"', ("id",)):
        notes = _json(raw, [])
        found = [(str(n.get("by", "")), len(str(n.get("text", "")))) for n in notes if isinstance(n, dict)] \
            if isinstance(notes, list) else [("", len(str(raw)))]
        audited = claims.notes.pop(case, [])
        if found != audited:
            problems.add("row-changed", f"case {case} has {len(found)} note(s) in the database but {len(audited)}"
                         " recorded in the audit log (case.note), or their authors or lengths differ")


def report_leftovers(claims: Claims, problems: Problems) -> None:
    """Claims no row took: rows deleted behind Svidok's back."""
    removed = {key[1] for key in claims.vouched if key[0] == "removed"}
    for key, (seq, _digest) in sorted(claims.vouched.items(), key=lambda kv: kv[1][0]):
        if key[0] in ("removed", "revoked") or (key[0] == "reference" and key[1] in removed):
            continue
        problems.add("row-missing", f"audit entry {seq} recorded {_label(key)}, which the database no longer has")
    for sid, (seq, status) in sorted(claims.statuses.items()):
        problems.add("row-missing", f"audit entry {seq} recorded sighting {sid} as {status}, which the database no"
                     " longer has")


def check_rows(ws: Workspace, claims: Claims, problems: Problems) -> int:
    """Every table above, sightings, revocations and notes; returns how many rows were read."""
    rows = sum(check_table(ws, table, claims, problems) for table in TABLES)
    rows += check_sightings(ws, claims, problems)
    check_revocations_and_notes(ws, claims, problems)
    report_leftovers(claims, problems)
    return rows
