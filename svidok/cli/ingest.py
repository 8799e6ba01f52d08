"""`svidok ingest ...`: archive material already on this machine."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr
from svidok.collectors.base import CollectProblem
from svidok.foundation.archive import ItemRecord, MediaStatus, SaveResult
from svidok.foundation.workspace import Workspace
from svidok.pipeline import CollectReport, run_collector


@click.group()
def ingest() -> None:
    """Archive Telegram Desktop exports and local files."""


def _print_report(report: dict) -> None:
    stderr.print(f"new items: {report['items']}, already archived: {report['duplicates']}, "
                 f"new versions: {report['updated']}, new media files: {report['media']}, "
                 f"media not in the export: {report['media_missing']}")
    if report["errors"]:
        table = Table("where", "problem", title=f"{len(report['errors'])} problem(s)")
        for error in report["errors"]:
            table.add_row(error["where"], error["error"])
        stderr.print(table)


@ingest.command("tdesktop")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--language", type=click.Choice(["ru", "uk"]), default=None,
              help="Spoken language of this channel's videos (guides transcription).")
@common_options
def ingest_tdesktop(cc: CommandContext, path: Path, language: str | None) -> None:
    """Archive a Telegram Desktop export folder (the one holding result.json).

    Works for a single chat/channel export and for a full-account export. Media the export
    did not include are recorded as missing; nothing is ever archived twice.

    Example:

        svidok ingest tdesktop ~/Downloads/Telegram\\ Desktop/ChatExport_2024-03-01 --language ru
    """
    from svidok.collectors.tdesktop_export import ExportError, TelegramDesktopExport

    with Workspace.create(cc.workspace_path) as ws:
        try:
            with cc.progress() as progress:
                task = progress.add_task("archiving messages", total=None)
                report = run_collector(ws, TelegramDesktopExport(path, language),
                                       on_saved=lambda *_: progress.advance(task))
        except ExportError as exc:
            raise CommandError(str(exc)) from None
    data = report.as_dict()
    cc.emit(data, _print_report)
    if report.did_nothing and report.errors:
        raise SystemExit(1)


@ingest.command("files")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source-url", default=None, help="Where the files were found (recorded as provenance).")
@click.option("--note", default=None, help="Free-text note stored with each file.")
@common_options
def ingest_files(cc: CommandContext, paths: tuple[Path, ...], source_url: str | None, note: str | None) -> None:
    """Archive photos, videos and audio saved on this machine (folders recursively).

    Example:

        svidok ingest files ~/saved/clips --source-url https://t.me/somechannel/123 --note "saved 2024-03-01"
    """
    from svidok.collectors.local_files import LocalFiles

    rows: list[dict] = []

    def saved(item: ItemRecord, result: SaveResult) -> None:
        outcome = result.media[0]
        path = str(item.media[0].path)
        if outcome.status != MediaStatus.STORED:
            rows.append({"media_sha256": None, "path": path, "status": "rejected", "reason": outcome.reason})
        else:
            rows.append({"media_sha256": outcome.sha256, "path": path,
                         "status": "new" if outcome.new_bytes else "duplicate"})

    def problem(found: CollectProblem) -> None:
        rows.append({"media_sha256": None, "path": found.where, "status": "rejected", "reason": found.message})

    with Workspace.create(cc.workspace_path) as ws:
        collector = LocalFiles(list(paths), source_url, note, ws.settings.archive.max_file_bytes)
        report: CollectReport = run_collector(ws, collector, on_saved=saved, on_problem=problem)

    def show(data: list[dict]) -> None:
        table = Table("status", "file", "sha256 / reason")
        for row in data:
            table.add_row(row["status"], row["path"], row.get("reason") or row["media_sha256"][:16] + "…")
        stderr.print(table)

    cc.emit(rows, show)
    if report.did_nothing and rows:
        raise SystemExit(1)


COMMANDS = [ingest]
