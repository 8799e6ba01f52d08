"""Check the audit anchors (cases/audit_anchors.py) against the log: step 6 of `svidok verify`,
and the newest anchor for `svidok audit verify`.

For each anchor:
1. its token checks (cases/timestamp.py `check_timestamp`): granted, the TSA's signature and
   certificate chain to the trusted roots (export.tsa_ca_file; without them only to the
   certificate inside the token, which shows the token unaltered but not who issued it), and the
   message imprint is over the anchored tip, `anchor_message(seq, tip)`; the TSA's time in the
   token is the one stored;
2. the audit entry at its seq still has the anchored hash: a log rewritten at or before that
   entry, even with every later hash recomputed, fails here;
3. the `audit.anchor` entry that recorded it names the same seq, tip and time; an anchor no entry
   records, and an entry whose anchor is gone, are reported too.
Every problem names the anchor and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from svidok.cases.audit_anchors import ACTION, COLUMNS, Anchor, anchor_from_row, newest_anchor
from svidok.cases.timestamp import TimestampError, check_timestamp, load_roots
from svidok.foundation.workspace import Workspace

PAGE = 500


@dataclass(frozen=True)
class AnchorProblem:
    anchor: int | None      # the anchor's id; None for the trusted roots themselves
    what: str


@dataclass(frozen=True)
class NewestAnchor:
    anchor: Anchor
    problems: list[AnchorProblem]


def trusted_roots(ws: Workspace) -> tuple[list[x509.Certificate], list[AnchorProblem]]:
    """The TSA roots of export.tsa_ca_file (none when unset), or the problem reading them."""
    ca = ws.settings.export.tsa_ca_file
    if not ca:
        return [], []
    try:
        return load_roots(ca), []
    except TimestampError as exc:
        return [], [AnchorProblem(None, f"{exc}; audit anchors were checked against their own certificates only")]


def check_anchors(ws: Workspace) -> Iterator[AnchorProblem]:
    """Every anchor, oldest first (read in pages), and every audit.anchor entry."""
    roots, problems = trusted_roots(ws)
    yield from problems
    recorded = _recorded(ws, None)
    last = 0
    while True:
        rows = ws.conn.execute(f"SELECT {COLUMNS} FROM audit_anchor WHERE id > ? ORDER BY id LIMIT ?",
                               (last, PAGE)).fetchall()
        for row in rows:
            anchor = anchor_from_row(row)
            yield from check_anchor(ws, anchor, roots, recorded.pop(anchor.id, None))
        if len(rows) < PAGE:
            break
        last = int(rows[-1][0])
    for anchor_id, (seq, _) in sorted(recorded.items()):
        yield AnchorProblem(anchor_id, f"audit entry {seq} recorded audit anchor {anchor_id}, which the database no"
                            " longer has")


def check_newest(ws: Workspace) -> NewestAnchor | None:
    """The newest anchor and its problems (None when nothing was anchored yet)."""
    anchor = newest_anchor(ws)
    if anchor is None:
        return None
    roots, problems = trusted_roots(ws)
    recorded = _recorded(ws, anchor.id).get(anchor.id)
    return NewestAnchor(anchor, problems + list(check_anchor(ws, anchor, roots, recorded)))


def check_anchor(ws: Workspace, anchor: Anchor, roots: list[x509.Certificate],
                 recorded: tuple[int, dict[str, Any]] | None) -> Iterator[AnchorProblem]:
    """Steps 1-3 for one anchor; `recorded` is (seq, details) of the audit entry that recorded it."""
    name = f"audit anchor {anchor.id} (entry {anchor.seq}, timestamped {anchor.gen_time})"
    try:                                                                                       # 1
        stamp = check_timestamp(anchor.token, anchor.message, roots)
        if stamp.at != anchor.gen_time:
            yield AnchorProblem(anchor.id, f"{name}: the token's time is {stamp.at}, not the one stored")
    except TimestampError as exc:
        yield AnchorProblem(anchor.id, f"{name}: {exc}")
    row = ws.conn.execute("SELECT hash FROM audit WHERE seq = ?", (anchor.seq,)).fetchone()   # 2
    if row is None:
        yield AnchorProblem(anchor.id, f"{name}: the audit log no longer has entry {anchor.seq}: entries were"
                            " removed from its end")
    elif row[0] != anchor.tip:
        yield AnchorProblem(anchor.id, f"{name}: the TSA timestamped entry {anchor.seq} with hash {anchor.tip[:16]}…,"
                            f" but the log's entry {anchor.seq} hashes to {row[0][:16]}…: the log was rewritten at or"
                            f" before entry {anchor.seq}")
    if recorded is None:                                                                       # 3
        yield AnchorProblem(anchor.id, f"{name}: no {ACTION} audit entry records it")
        return
    seq, details = recorded
    said = (details.get("seq"), details.get("tip"), details.get("gen_time"))
    if said != (anchor.seq, anchor.tip, anchor.gen_time):
        yield AnchorProblem(anchor.id, f"{name}: audit entry {seq} recorded it as entry {said[0]} with hash"
                            f" {str(said[1])[:16]}…, timestamped {said[2]}")


def _recorded(ws: Workspace, anchor_id: int | None) -> dict[int, tuple[int, dict[str, Any]]]:
    """{anchor id: (seq, details)} of the audit.anchor entries (of one anchor's, given its id)."""
    sql, params = "SELECT seq, object, details FROM audit WHERE action = ?", (ACTION,)
    if anchor_id is not None:
        sql, params = sql + " AND object = ?", (ACTION, f"audit_anchor:{anchor_id}")
    out: dict[int, tuple[int, dict[str, Any]]] = {}
    for seq, obj, details in ws.conn.execute(sql, params):
        prefix, _, number = obj.partition(":")
        if prefix == "audit_anchor" and number.isdigit():
            try:
                out[int(number)] = (int(seq), json.loads(details))
            except ValueError:                  # an edited entry: the chain check reports it
                out[int(number)] = (int(seq), {})
    return out
