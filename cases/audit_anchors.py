"""Anchor the audit log's tip with an RFC 3161 time-stamping authority.

The audit log (svidok/foundation/audit.py) is a hash chain: it shows an entry changed or removed,
but not a chain rewritten from some entry on with every later hash recomputed, which anyone who
can write the database can do. An anchor closes that gap: the TSA that timestamps evidence
packages (export.tsa_url) signs the tip, entry `seq` and its hash, with the TSA's own time, and
the token is kept in the table `audit_anchor` (append-only, like `audit`). A rewrite changes the
hash of every entry from the rewritten one on, so the first anchor at or after that entry no
longer matches the log; cases/audit_anchor_check.py says so for `svidok verify` and
`svidok audit verify`.

What the TSA timestamps is `anchor_message(seq, hash)`, the ASCII text
`svidok-audit-tip:<seq>:<hash>`, so that openssl can check a token by hand:

    printf 'svidok-audit-tip:%s:%s' SEQ HASH > tip.txt
    openssl ts -verify -data tip.txt -in token.tsr -CAfile tsa-root.pem

`anchor_tip` is meant for cron (hourly, say). It does nothing when no entry but its own
`audit.anchor` entries was appended since the newest anchor, and it refuses to anchor a log whose
newest anchor no longer matches. The TSA is asked with no transaction open; the anchor and its
audit entry are then written in one short transaction.

Limits: entries after the newest anchor are only as safe as the chain. Someone who controls the
database and can reach a TSA could delete the anchors and get new tokens for a rewritten log
(dated at the rewrite); the CLI prints each token with --json so that a copy can live elsewhere.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from svidok.cases.timestamp import check_timestamp, load_roots, request_timestamp
from svidok.foundation.clock import utc_now
from svidok.foundation.settings import ExportSettings
from svidok.foundation.workspace import Workspace

ACTION = "audit.anchor"          # the audit entry written with each anchor; object audit_anchor:<id>
COLUMNS = "id, seq, tip, tsa_url, token, gen_time, created_at"


class AnchorError(ValueError):
    """No TSA configured, nothing to anchor, or the newest anchor no longer matches the log."""


@dataclass(frozen=True)
class Anchor:
    id: int
    seq: int                # the audit entry anchored: the tip when the anchor was made
    tip: str                # that entry's hash
    tsa_url: str
    token: bytes            # the DER TimeStampResp, as the TSA sent it
    gen_time: str           # the TSA's time (ISO 8601 UTC), read from the token
    created_at: str

    @property
    def message(self) -> bytes:
        return anchor_message(self.seq, self.tip)

    def as_dict(self, with_token: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "seq": self.seq, "tip": self.tip, "tsa_url": self.tsa_url,
                                "gen_time": self.gen_time, "created_at": self.created_at}
        if with_token:
            data["token_base64"] = base64.b64encode(self.token).decode("ascii")
        return data


@dataclass(frozen=True)
class AnchorResult:
    anchor: Anchor          # the new anchor, or the newest one when nothing was done
    anchored: bool          # False: no entry was appended since `anchor` (but its own)
    audit_seq: int | None   # the audit.anchor entry written


def anchor_message(seq: int, tip: str) -> bytes:
    """The bytes a TSA timestamps for the tip (entry `seq` with hash `tip`)."""
    return f"svidok-audit-tip:{seq}:{tip}".encode("ascii")


def anchor_from_row(row: Any) -> Anchor:
    return Anchor(int(row[0]), int(row[1]), row[2], row[3], bytes(row[4]), row[5], row[6])


def newest_anchor(ws: Workspace) -> Anchor | None:
    row = ws.conn.execute(f"SELECT {COLUMNS} FROM audit_anchor ORDER BY seq DESC LIMIT 1").fetchone()
    return anchor_from_row(row) if row else None


def anchor_tip(ws: Workspace, settings: ExportSettings, actor: str = "cli") -> AnchorResult:
    """Timestamp the audit log's tip with the configured TSA and store the anchor (see the module)."""
    if not settings.tsa_url:
        raise AnchorError("no time-stamping authority is configured: set export.tsa_url (SVIDOK_EXPORT_TSA_URL)")
    tip = ws.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if tip is None:
        raise AnchorError("the audit log is empty: nothing to anchor")
    newest = newest_anchor(ws)
    if newest is not None:
        _still_in_log(ws, newest)
        if not _appended_since(ws, newest.seq):
            return AnchorResult(newest, False, None)
    seq, digest = int(tip[0]), tip[1]
    message = anchor_message(seq, digest)
    roots = load_roots(settings.tsa_ca_file) if settings.tsa_ca_file else []
    stamp = request_timestamp(settings.tsa_url, message, settings.tsa_timeout_s)     # no transaction open
    if roots:
        check_timestamp(stamp.token, message, roots)
    with ws.transaction():
        newest = newest_anchor(ws)
        if newest is not None and newest.seq >= seq:       # another run anchored it meanwhile
            return AnchorResult(newest, False, None)
        row = {"seq": seq, "tip": digest, "tsa_url": settings.tsa_url, "token": stamp.token,
               "gen_time": stamp.at, "created_at": utc_now()}
        anchor_id = ws.db.insert("audit_anchor", row)
        audit_seq = ws.audit.append(actor, ACTION, f"audit_anchor:{anchor_id}",
                                    {"seq": seq, "tip": digest, "tsa_url": settings.tsa_url, "gen_time": stamp.at})
    return AnchorResult(Anchor(anchor_id, **row), True, audit_seq)


def _still_in_log(ws: Workspace, anchor: Anchor) -> None:
    row = ws.conn.execute("SELECT hash FROM audit WHERE seq = ?", (anchor.seq,)).fetchone()
    if row is None or row[0] != anchor.tip:
        raise AnchorError(f"audit entry {anchor.seq} no longer has the hash the TSA timestamped at {anchor.gen_time}"
                          f" (anchor {anchor.id}): the audit log was changed; run `svidok verify`")


def _appended_since(ws: Workspace, seq: int) -> bool:
    """Whether an entry other than an anchor's own was appended after entry `seq`."""
    return ws.conn.execute("SELECT 1 FROM audit WHERE seq > ? AND action <> ? LIMIT 1", (seq, ACTION)).first() \
        is not None
