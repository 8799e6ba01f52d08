"""The `svidok` entry point and the workspace-wide commands (init, settings, items); `audit` is in audit.py."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from svidok import __version__
from svidok.cli.base import CommandContext, SvidokGroup, common_options, stderr
from svidok.foundation.settings import describe_settings
from svidok.foundation.workspace import Workspace


@click.group(cls=SvidokGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", type=click.Path(path_type=Path), default=None,
              help="Workspace folder (default: $SVIDOK_WORKSPACE, else ./svidok-workspace).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="svidok")
def main(workspace: Path | None, as_json: bool, debug: bool) -> None:
    """Svidok: archive footage of captives, find consented missing persons in it, and let
    human reviewers decide.

    Example:

        svidok init && svidok ingest tdesktop ~/Downloads/ChatExport && svidok analyze
    """


@main.command()
@common_options
def init(cc: CommandContext) -> None:
    """Create the workspace folder and database (safe to run again).

    Example:

        svidok init --workspace ~/svidok-workspace
    """
    with Workspace.create(cc.workspace_path) as ws:
        ws.audit.append("cli", "workspace.init", str(ws.root))
        cc.emit({"workspace": str(ws.root)}, lambda d: stderr.print(f"workspace ready: {d['workspace']}"))


@main.command("settings")
@common_options
def settings_cmd(cc: CommandContext) -> None:
    """List every setting with its default, environment variable and help.

    Example:

        svidok settings --json
    """
    rows = describe_settings()

    def show(data: list[dict]) -> None:
        table = Table("setting", "default", "help")
        for row in data:
            table.add_row(f"{row['section']}.{row['name']}", repr(row["default"]), row["help"])
        stderr.print(table)

    cc.emit(rows, show)


@main.group()
def items() -> None:
    """Archived items (posts, pages, files)."""


@items.command("list")
@click.option("--limit", type=int, default=100, show_default=True, help="Most items to list (newest first).")
@click.option("--source", default=None, help="Only items from this source kind (tdesktop, files, telegram, ...).")
@common_options
def items_list(cc: CommandContext, limit: int, source: str | None) -> None:
    """List archived items with their media hashes.

    Example:

        svidok items list --source tdesktop --limit 20 --json
    """
    with cc.workspace() as ws:
        where, args = ("WHERE source_kind = ?", [source]) if source else ("", [])
        rows = ws.conn.execute(
            f"SELECT id, source_kind, source_id, posted_at, text, channel, url FROM item {where}"
            " ORDER BY id DESC LIMIT ?", [*args, limit],
        ).fetchall()
        out = []
        for row in rows:
            media = [m[0] for m in ws.conn.execute(
                "SELECT media_sha256 FROM item_media WHERE item_id = ? AND media_sha256 IS NOT NULL ORDER BY position",
                (row[0],))]
            out.append({"id": row[0], "source": row[1], "source_id": row[2], "posted_at": row[3],
                        "text": row[4], "channel": row[5], "url": row[6], "media_sha256": media})

    def show(data: list[dict]) -> None:
        table = Table("id", "source", "source id", "posted", "media", "text")
        for r in data:
            table.add_row(str(r["id"]), r["source"], r["source_id"], r["posted_at"] or "", str(len(r["media_sha256"])),
                          (r["text"] or "")[:60])
        stderr.print(table)

    cc.emit(out, show)


def _register() -> None:
    """Attach the command groups that live in their own modules."""
    from svidok.cli import analyze, collect, demo, faces, ingest, models, package, persons, review, status, worker
    from svidok.cli import audit as audit_cli
    from svidok.cli import match as match_cli
    from svidok.cli import transcribe as transcribe_cli
    from svidok.cli import migrate as migrate_cli
    from svidok.cli import verify as verify_cli

    for module in (ingest, collect, analyze, faces, transcribe_cli, persons, match_cli, review, demo, models, status,
                   package, worker, verify_cli, migrate_cli, audit_cli):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
