"""`svidok collect ...`: archive material from online sources; `svidok sources`: their state.

`collect telegram-web` lives here; `collect telegram` and `collect video` are attached from
their own modules when those import.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


def _report_line(data: dict[str, Any]) -> None:
    stderr.print(f"{data['items']} new, {data.get('updated', 0)} updated, {data['duplicates']} already archived,"
                 f" {data['media']} new media files, {len(data['errors'])} errors")
    for error in data["errors"][:20]:
        stderr.print(f"  {error['where']}: {error['error']}")


@click.group(invoke_without_command=True)
@click.option("--all", "run_all", is_flag=True, help="Run every source of the sources file once (resumable).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: setting collect.sources_file, configs/sources.toml).")
@common_options
@click.pass_context
def collect(ctx: click.Context, cc: CommandContext, run_all: bool, sources_file: Path | None) -> None:
    """Archive posts and media from online sources.

    With --all, every source listed in configs/sources.toml is collected once, each by its
    collector, continuing where the last run stopped; a failing source is reported and the
    others go on. Suited to cron or a systemd timer.

    Example:

        svidok collect telegram-web some_channel --json

    \b
    Every hour from cron (crontab -e), or a systemd timer with OnCalendar=hourly:
        0 * * * *  cd /srv/svidok && .venv/bin/svidok collect --all --workspace /srv/ws >>collect.log 2>&1
    """
    if ctx.invoked_subcommand is not None:
        return
    if not run_all:
        click.echo(ctx.get_help())
        return
    _collect_all(cc, sources_file)


def _collect_all(cc: CommandContext, sources_file: Path | None) -> None:
    from svidok.collectors.sources import load_sources, run_source
    from svidok.foundation.archive import Archive
    from svidok.pipeline import CollectReport

    with cc.workspace() as ws:
        sources = load_sources(sources_file or Path(ws.settings.collect.sources_file))
        total, results = CollectReport(), []
        for source in sources:
            stderr.print(f"collecting {source.kind} {source.target} ...")
            try:
                report = run_source(ws, source)
            except Exception as exc:  # one source's failure must not stop the others
                message = f"{type(exc).__name__}: {exc}"
                archive = Archive(ws, source.kind, "-")
                archive.set_checkpoint(source.key, archive.get_checkpoint(source.key) or {}, "failed", 0, [message])
                results.append({"kind": source.kind, "target": source.target, "status": "failed", "error": message})
                stderr.print(f"[red]failed:[/] {source.kind} {source.target}: {message}")
                continue
            total.merge(report)
            results.append({"kind": source.kind, "target": source.target, "status": "ok", **report.as_dict()})
        data = {"sources": results, **total.as_dict(), "failed_sources": sum(r["status"] == "failed" for r in results)}
    cc.emit(data, _report_line)


@collect.command("telegram-web")
@click.argument("channels", nargs=-1, required=True)
@click.option("--base-url", default="https://t.me", show_default=True,
              help="Where the t.me/s pages are fetched (a mirror, or a local test server).")
@click.option("--max-pages", type=click.IntRange(min=1), default=None,
              help="Pages fetched backwards per channel (default: setting collect.web_max_pages).")
@click.option("--language", type=click.Choice(["ru", "uk"]), default=None, help="Language of the channel's posts.")
@common_options
def telegram_web(cc: CommandContext, channels: tuple[str, ...], base_url: str, max_pages: int | None,
                 language: str | None) -> None:
    """Archive public channels from their web preview (t.me/s/CHANNEL), no account needed.

    Pages are read newest first, going back with ?before=; the photos, videos, round videos and
    voice messages the preview links are downloaded, documents are recorded as not in the preview.
    A rerun re-reads the newest page (edits become new versions) and stops at known posts.

    Example:

        svidok collect telegram-web some_channel other_channel --max-pages 5 --json
    """
    from svidok.collectors.tme_web import TmeWebCollector
    from svidok.pipeline import CollectReport, run_collector

    if not base_url.startswith(("http://", "https://")):
        raise CommandError(f"--base-url must start with http:// or https:// (got {base_url!r})")
    total = CollectReport()
    with cc.workspace() as ws:
        for channel in channels:
            collector = TmeWebCollector(ws, channel, base_url=base_url, max_pages=max_pages, language=language)
            stderr.print(f"collecting t.me/s/{collector.channel} ...")
            total.merge(run_collector(ws, collector, actor="cli:collect-telegram-web"))
    cc.emit(total.as_dict(), _report_line)


@click.command("sources")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: setting collect.sources_file, configs/sources.toml).")
@common_options
def sources(cc: CommandContext, sources_file: Path | None) -> None:
    """List the configured sources with their last run, items archived and last errors.

    Sources that were collected but are no longer in the file are listed too (configured: false).

    Example:

        svidok sources --json
    """
    from svidok.collectors.sources import load_sources

    with cc.workspace() as ws:
        default = Path(ws.settings.collect.sources_file)
        configured = load_sources(sources_file) if sources_file else load_sources(default) if default.is_file() else []
        state = {row[0]: row[1:] for row in ws.conn.execute(
            "SELECT source_key, last_run_at, last_status, items_total, errors FROM source_state ORDER BY source_key")}
    rows = [{"kind": s.kind, "target": s.target, "language": s.language, "notes": s.notes, "source_key": s.key,
             "configured": True, **_state(state.pop(s.key, None))} for s in configured]
    for key, values in state.items():
        kind, _, target = key.partition(":")
        rows.append({"kind": kind, "target": target, "language": None, "notes": "", "source_key": key,
                     "configured": False, **_state(values)})

    def show(data: list[dict[str, Any]]) -> None:
        table = Table("source", "language", "last run", "status", "items", "errors")
        for r in data:
            table.add_row(r["source_key"], r["language"] or "", r["last_run_at"] or "never", r["last_status"] or "",
                          str(r["items_total"]), "; ".join(r["errors"])[:80])
        stderr.print(table)

    cc.emit(rows, show)


def _state(values: tuple[Any, ...] | None) -> dict[str, Any]:
    if values is None:
        return {"last_run_at": None, "last_status": None, "items_total": 0, "errors": []}
    return {"last_run_at": values[0], "last_status": values[1], "items_total": values[2],
            "errors": json.loads(values[3] or "[]")}


def _attach_optional() -> None:
    """`collect telegram` and `collect video` come from their own modules, when those import."""
    for module_name, command_name in (("svidok.cli.collect_telegram", "telegram"), ("svidok.cli.collect_video", "video")):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        command = getattr(module, command_name, None)
        if not isinstance(command, click.Command):
            command = next((c for c in getattr(module, "COMMANDS", []) if c.name == command_name), None)
        if command is not None:
            collect.add_command(command, command_name)


_attach_optional()

COMMANDS: list[click.Command] = [collect, sources]
