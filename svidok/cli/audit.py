"""`svidok audit verify` and `svidok audit anchor`: the hash-chained audit log and its RFC 3161 anchors."""

from __future__ import annotations

from typing import Any

import click

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log."""


@audit.command("verify")
@common_options
def audit_verify(cc: CommandContext) -> None:
    """Check that no audit entry was changed or removed, and that the newest anchor (`svidok audit
    anchor`) still checks: its timestamp against the TSA's roots (export.tsa_ca_file) and the
    log's entry against the hash it anchored. `anchor` in the JSON is that anchor (null when there
    is none); `svidok verify` checks every anchor.

    Example:

        svidok audit verify --json
    """
    from svidok.cases.audit_anchor_check import check_newest

    with cc.workspace() as ws:
        report = ws.audit.verify()
        newest = check_newest(ws)
    problems = [{"seq": p.seq, "problem": p.problem} for p in report.problems]
    anchor = None
    if newest is not None:
        problems += [{"seq": newest.anchor.seq, "problem": p.what} for p in newest.problems]
        anchor = newest.anchor.as_dict() | {"ok": not newest.problems}
    data = {"ok": not problems, "entries": report.entries, "tip": report.tip, "problems": problems, "anchor": anchor}
    cc.emit(data, _show_verify)
    if problems:
        raise SystemExit(1)


def _show_verify(data: dict[str, Any]) -> None:
    for p in data["problems"]:
        stderr.print(f"entry {p['seq']}: {p['problem']}", soft_wrap=True, markup=False)
    anchor = data["anchor"]
    anchored = f"; anchored up to entry {anchor['seq']} at {anchor['gen_time']}" if anchor else "; never anchored"
    stderr.print(f"{'OK' if data['ok'] else 'TAMPERED'}: {data['entries']} entries, tip {data['tip'][:16]}…{anchored}",
                 soft_wrap=True)


@audit.command("anchor")
@common_options
def audit_anchor(cc: CommandContext) -> None:
    """Have the time-stamping authority (export.tsa_url, checked against export.tsa_ca_file) sign
    the audit log's tip (its newest entry's seq and hash) and keep the token, so that a log
    rewritten later, even with every hash recomputed, no longer matches it (`svidok verify`).
    Adds an audit entry `audit.anchor`. Meant for cron, e.g. hourly: when nothing but anchors
    was logged since the newest anchor it does nothing and says so (exit 0). With --json the
    token is printed too (token_base64): keep that output somewhere else as well, since someone
    who can rewrite the database can also remove the anchors. Exits 1 when no TSA is
    configured, the TSA fails, or the newest anchor no longer matches the log.

    Example:

        svidok audit anchor --json

    \b
    Every hour from cron (crontab -e), each token also kept off the archive's machine:
        0 * * * *  /srv/svidok/.venv/bin/svidok audit anchor --workspace /srv/ws --json >>/backup/anchors.jsonl
    """
    from svidok.cases.audit_anchors import AnchorError, anchor_tip
    from svidok.cases.timestamp import TimestampError

    with cc.workspace() as ws:
        try:
            result = anchor_tip(ws, ws.settings.export)
        except (AnchorError, TimestampError) as exc:
            raise CommandError(str(exc)) from None
    data = {"anchored": result.anchored, "audit_seq": result.audit_seq,
            "anchor": result.anchor.as_dict(with_token=result.anchored)}
    cc.emit(data, _show_anchor)


def _show_anchor(data: dict[str, Any]) -> None:
    a = data["anchor"]
    if data["anchored"]:
        stderr.print(f"anchored audit entry {a['seq']} (hash {a['tip'][:16]}…) at {a['gen_time']}, {a['tsa_url']}"
                     f" (anchor {a['id']}, audit entry {data['audit_seq']})", soft_wrap=True, markup=False)
    else:
        stderr.print(f"nothing to anchor: the audit log has not changed since anchor {a['id']} (entry {a['seq']},"
                     f" {a['gen_time']})", soft_wrap=True, markup=False)


COMMANDS: list[click.Command] = [audit]
