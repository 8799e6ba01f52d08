"""`svidok verify`: re-hash every stored file and check the rows the audit log vouches for."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from svidok.cli.base import CommandContext, common_options, stderr


@click.command()
@click.option("--max-problems", type=click.IntRange(min=1), default=1000, show_default=True,
              help="List at most this many problems (all are counted in problems_total).")
@common_options
def verify(cc: CommandContext, max_problems: int) -> None:
    """Check that the archive is as Svidok left it: every file under media/, derived/ and
    references/ re-hashed against its SHA-256 name (and every row's file present), the audit
    log's hash chain, and every decision, sighting status, consent and revocation, case note
    and attachment, user and role, person, reference photo and status step against the audit
    entry that recorded it, and every RFC 3161 anchor of the audit tip (`svidok audit anchor`)
    against the TSA's roots and the log — so that an edit made with another tool, a deleted or
    altered file, and an audit log cut back, edited or rewritten are each reported. Exits 1
    unless everything checks.

    Reads one snapshot of the database while others keep working; files are read in chunks.

    Example:

        svidok verify --json
    """
    from svidok.cases.archive_verify import verify_archive

    with cc.workspace() as ws, cc.progress() as bar:
        task = bar.add_task("hashing stored files", total=None)
        report = verify_archive(ws, lambda files, size: bar.update(task, completed=files), max_problems)
    cc.emit(report.as_dict(), _show)
    if not report.ok:
        raise SystemExit(1)


def _show(data: dict[str, Any]) -> None:
    for p in data["problems"]:
        stderr.print(f"[bold red]{p['kind']}:[/] {escape(p['what'])}", soft_wrap=True)
    more = data["problems_total"] - len(data["problems"])
    if more:
        stderr.print(f"… and {more} more problem(s) (--max-problems)")
    verdict = "[bold green]OK[/]" if data["ok"] else f"[bold red]NOT OK[/] ({data['problems_total']} problem(s))"
    stderr.print(f"{verdict}: {data['files_checked']} files ({data['bytes_checked']:,} bytes) re-hashed,"
                 f" {data['rows_checked']} rows and {data['audit_entries']} audit entries checked")


COMMANDS: list[click.Command] = [verify]
