"""`svidok collect telegram`: channels through the Telegram API (Telethon), resumable."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from svidok.cli.base import CommandContext, CommandError, common_options, stderr

if TYPE_CHECKING:
    from svidok.collectors.telethon_channel import TelegramSource
    from svidok.pipeline import CollectReport
    from svidok.foundation.workspace import Workspace

DOWNLOADS = "downloads/telegram"


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def collect_channels(ws: "Workspace", source: "TelegramSource", channels: list[str],
                     since: datetime | None) -> "CollectReport":
    """Collect each channel in turn; a channel that fails is reported and the others go on.

    1. the channel's checkpoint and its recently archived items are read;
    2. new messages are collected through the pipeline (checkpoint saved per batch);
    3. items that no longer come back are recorded as deleted at the source.
    """
    from svidok.collectors.telethon_channel import ChannelOptions, TelethonChannelCollector, known_items, normalize_channel
    from svidok.foundation.archive import Archive
    from svidok.pipeline import CollectReport, run_collector

    settings = ws.settings.collect
    total = CollectReport()
    for channel in channels:
        archive = Archive(ws, TelethonChannelCollector.name, TelethonChannelCollector.version)
        try:
            key = f"telegram:{normalize_channel(channel)}"                                           # 1
        except ValueError as exc:
            total.errors.append({"where": channel, "error": str(exc)})
            continue
        options = ChannelOptions(since=since, retries=settings.retries, resync_items=settings.telegram_resync_items,
                                 known=known_items(ws.conn, channel, settings.telegram_resync_items))
        collector = TelethonChannelCollector(source, channel, ws.root / DOWNLOADS, options,
                                             archive.get_checkpoint(key))
        stderr.print(f"telegram: collecting {collector.channel} after message {collector.last_id}")
        total.merge(run_collector(ws, collector))                                                   # 2
        for source_id in collector.deleted:                                                         # 3
            archive.mark_deleted("telegram", source_id)
    return total


def run_source(ws: "Workspace", source: Any) -> "CollectReport":
    """The `collect --all` runner for `kind = "telegram"` sources (needs a saved login session)."""
    from svidok.collectors.telethon_client import TelethonSource

    settings = ws.settings.collect
    client = TelethonSource(ws.root / "sessions", settings.telegram_api_id, settings.telegram_api_hash,
                            settings.telegram_phone)
    client.start(interactive=False)
    try:
        return collect_channels(ws, client, [source.target], None)
    finally:
        client.close()


@click.command("telegram")
@click.argument("channels", nargs=-1, required=True)
@click.option("--since", default=None, help="On a channel's first run, only posts after this date (YYYY-MM-DD).")
@click.option("--login", is_flag=True, help="Log in interactively (asks for the code Telegram sends) if needed.")
@common_options
def telegram_command(cc: CommandContext, channels: tuple[str, ...], since: str | None, login: bool) -> None:
    """Collect Telegram channels through the Telegram API (Telethon), resuming where the last run stopped.

    Needs collect.telegram_api_id, collect.telegram_api_hash and collect.telegram_phone
    (or SVIDOK_COLLECT_TELEGRAM_API_ID etc.). The login session is kept in the workspace's
    sessions/ folder. Edited posts become new versions; posts gone from the channel are
    marked deleted (the archived copy is kept).

    Example:

        svidok collect telegram some_channel other_channel --since 2024-02-24 --json
    """
    from svidok.collectors.telethon_client import TelegramLoginError, TelethonSource

    logging.basicConfig(level=logging.INFO if cc.debug else logging.WARNING, format="%(levelname)s %(message)s")
    start = _since(since)
    with cc.workspace() as ws:
        settings = ws.settings.collect
        try:
            source = TelethonSource(ws.root / "sessions", settings.telegram_api_id, settings.telegram_api_hash,
                                    settings.telegram_phone)
            source.start(interactive=login)
        except TelegramLoginError as exc:
            raise CommandError(str(exc)) from None
        except (OSError, ConnectionError) as exc:
            raise CommandError(f"cannot reach Telegram: {exc}") from None
        try:
            report = collect_channels(ws, source, list(channels), start)
        finally:
            source.close()
    data = report.as_dict()
    cc.emit(data, lambda d: stderr.print(f"{d['items']} new, {d['updated']} updated, {d['duplicates']} unchanged, "
                                         f"{d['media']} media, {len(d['errors'])} errors"))
    if report.errors and report.did_nothing:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [telegram_command]
