"""`svidok collect ...`: archive material from online sources; `svidok sources`: their state.

Every command here turns its arguments into `Source` records and hands them to one runner,
`svidok.pipeline.collect_sources` — the same that `collect --all` uses for the sources file.

Exit codes: 0 when something was collected or was already archived (errors for some items or
sources are listed in `errors` / `sources`); 1 when nothing could be done (every source failed,
or it found nothing and reported errors); 2 for usage errors.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr

if TYPE_CHECKING:
    from svidok.collectors.sources import Source


def _report_line(data: dict[str, Any]) -> None:
    stderr.print(f"{data['items']} new, {data.get('updated', 0)} updated, {data['duplicates']} already archived,"
                 f" {data['media']} new media files, {len(data['errors'])} errors")
    for error in data["errors"][:20]:
        stderr.print(f"  {error['where']}: {error['error']}")


@click.group(invoke_without_command=True)
@click.option("--all", "run_all", is_flag=True, help="Run every source of the sources file once (resumable).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: setting collect.sources_file, configs/sources.toml).")
@click.option("--enqueue", is_flag=True,
              help="With --all: send one task per source to the workers (`svidok worker`, broker SVIDOK_BROKER_URL).")
@common_options
@click.pass_context
def collect(ctx: click.Context, cc: CommandContext, run_all: bool, sources_file: Path | None, enqueue: bool) -> None:
    """Archive posts and media from online sources.

    With --all, every source listed in configs/sources.toml is collected once, each by its
    collector, continuing where the last run stopped; a failing source is reported and the
    others go on. Suited to cron or a systemd timer. With --all --enqueue, each source becomes
    one task for the workers (`svidok worker`) instead.

    Example:

        svidok collect telegram-web some_channel --json

    \b
    Every hour from cron (crontab -e), or a systemd timer with OnCalendar=hourly:
        0 * * * *  cd /srv/svidok && .venv/bin/svidok collect --all --workspace /srv/ws >>collect.log 2>&1
    """
    if ctx.invoked_subcommand is not None:
        return
    if enqueue and not run_all:
        raise click.UsageError("--enqueue goes with --all")
    if not run_all:
        click.echo(ctx.get_help())
        return
    if enqueue:
        _enqueue_all(cc, sources_file)
        return
    _collect_all(cc, sources_file)


def _enqueue_all(cc: CommandContext, sources_file: Path | None) -> None:
    from svidok.cli.worker import broker_app
    from svidok.collectors.sources import load_sources
    from svidok.pipeline.enqueue import BrokerUnreachable, enqueue_sources

    with cc.workspace() as ws:
        sources = load_sources(sources_file or Path(ws.settings.collect.sources_file))
        app = broker_app(cc, ws.settings)
    try:
        sent = enqueue_sources(app, sources)
    except BrokerUnreachable as exc:
        raise CommandError(str(exc)) from None
    cc.emit(sent.as_dict(), lambda d: stderr.print(f"queued {d['enqueued']} source(s) for collection"
                                                   f" ({d['already_queued']} already waiting)"))


def _collect_all(cc: CommandContext, sources_file: Path | None) -> None:
    from svidok.collectors.sources import load_sources
    from svidok.pipeline import CollectReport, collect_sources

    with cc.workspace() as ws:
        sources = load_sources(sources_file or Path(ws.settings.collect.sources_file))
        runs = collect_sources(ws, sources, actor="cli:collect-all", on_source=_say_collecting)
    total = CollectReport()
    for run in runs:
        total.merge(run.report)
        if run.error:
            stderr.print(f"[red]failed:[/] {run.source.kind} {run.source.target}: {run.error}")
    failed = sum(run.error is not None for run in runs)
    data = {"sources": [run.as_dict() for run in runs], **total.as_dict(), "failed_sources": failed}
    cc.emit(data, _report_line)
    if runs and failed == len(runs):
        raise SystemExit(1)


def _say_collecting(source: "Source") -> None:
    stderr.print(f"collecting {source.kind} {source.target} ...")


def _collect(cc: CommandContext, sources: list["Source"], actor: str) -> None:
    """Run the sources of one `collect KIND` command; one report for all; exit 1 if nothing could be done."""
    from svidok.pipeline import collect_sources, merged_report

    with cc.workspace() as ws:
        runs = collect_sources(ws, sources, actor=actor, on_source=_say_collecting)
    total = merged_report(runs)
    cc.emit(total.as_dict(), _report_line)
    if total.errors and total.did_nothing:
        raise SystemExit(1)


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
    from svidok.collectors.sources import Source

    if not base_url.startswith(("http://", "https://")):
        raise CommandError(f"--base-url must start with http:// or https:// (got {base_url!r})")
    _collect(cc, [Source("telegram-web", channel, language, base_url=base_url, max_pages=max_pages)
                  for channel in channels], "cli:collect-telegram-web")


@collect.command("telegram")
@click.argument("channels", nargs=-1, required=True)
@click.option("--since", default=None, help="On a channel's first run, only posts after this date (YYYY-MM-DD).")
@click.option("--login", is_flag=True, help="Log in interactively (asks for the code Telegram sends) if needed.")
@common_options
def telegram(cc: CommandContext, channels: tuple[str, ...], since: str | None, login: bool) -> None:
    """Collect Telegram channels through the Telegram API (Telethon), resuming where the last run stopped.

    Needs collect.telegram_api_id, collect.telegram_api_hash and collect.telegram_phone
    (or SVIDOK_COLLECT_TELEGRAM_API_ID etc.). The login session is kept in the workspace's
    sessions/ folder. Edited posts become new versions; posts gone from the channel are
    marked deleted (the archived copy is kept).

    Example:

        svidok collect telegram some_channel other_channel --since 2024-02-24 --json
    """
    from svidok.collectors.sources import Source

    logging.basicConfig(level=logging.INFO if cc.debug else logging.WARNING, format="%(levelname)s %(message)s")
    start = _since(since)
    _collect(cc, [Source("telegram", channel, since=start, login=login) for channel in channels],
             "cli:collect-telegram")


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@collect.command("video")
@click.argument("urls", nargs=-1, required=True)
@click.option("--browser-only", is_flag=True, help="Skip yt-dlp and go straight to the Chromium fallback.")
@common_options
def video(cc: CommandContext, urls: tuple[str, ...], browser_only: bool) -> None:
    """Collect the video of TV and video pages: yt-dlp first, a headless Chromium when it fails.

    Keeps one file of at most 720p with audio (collect.video_max_height), subtitles when
    offered, and, for pages read in the browser, a full-page screenshot and the page HTML.
    Interrupted downloads continue on the next run.

    Example:

        svidok collect video https://example.tv/news/12345 --json
    """
    from svidok.collectors.sources import Source

    logging.basicConfig(level=logging.INFO if cc.debug else logging.WARNING, format="%(levelname)s %(message)s")
    _collect(cc, [Source("video", url, browser_only=browser_only) for url in urls], "cli:collect-video")


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


COMMANDS: list[click.Command] = [collect, sources]
