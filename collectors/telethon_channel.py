"""Telegram channels through the Telegram API (Telethon): new posts, edits, deletions.

    TelegramSource (a real TelegramClient, or an in-memory one in tests)
        ──TelethonChannelCollector──▶ ItemRecords ──pipeline──▶ archive

One item per post; an album (messages sharing a `grouped_id`) is ONE item whose media are the
album's files in message order, `source_id` = "<channel>/<first message id>" and
`raw["message_ids"]` listing every message of it. Per channel the checkpoint keeps the last
message id, so a run fetches only newer messages (`since` bounds a first run). Known recent
items are re-fetched by id: edited ones are yielded again (the archive records a new version),
and items none of whose messages come back are listed in `deleted` for the caller to record
with `Archive.mark_deleted`. Media downloads resume (see `collectors/telethon_media.py`);
the real client behind `TelegramSource` is `collectors/telethon_client.py`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon.errors import FloodWaitError, RPCError
from telethon.tl import types

from svidok.collectors.base import Collector, CollectProblem
from svidok.collectors.telethon_client import TelegramSource
from svidok.collectors.telethon_media import MediaDownloader, describe_media
from svidok.foundation.archive import ItemRecord, MediaRecord, MediaStatus

if TYPE_CHECKING:
    from svidok.collectors.sources import Source
    from svidok.foundation.workspace import Workspace

log = logging.getLogger(__name__)
SOURCE_KIND = "telegram"


@dataclass(frozen=True)
class KnownItem:
    """An archived item of this channel, as the re-sync needs it."""

    source_id: str
    message_ids: tuple[int, ...]
    edit_date: str | None


@dataclass
class ChannelOptions:
    """How one channel is collected."""

    since: datetime | None = None
    retries: int = 3
    resync_items: int = 200
    sleep: Callable[[float], None] = time.sleep
    known: list[KnownItem] = field(default_factory=list)


def normalize_channel(channel: str) -> str:
    """'https://t.me/s/Name', '@Name', 't.me/Name' → 'name'."""
    name = channel.strip().rstrip("/")
    for prefix in ("https://", "http://", "t.me/", "telegram.me/", "s/", "@"):
        if name.lower().startswith(prefix):
            name = name[len(prefix):]
    if not name or "/" in name:
        raise ValueError(f"not a channel name: {channel!r}")
    return name.lower()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _peer(peer: Any) -> str | None:
    if isinstance(peer, types.PeerChannel):
        return f"channel:{peer.channel_id}"
    if isinstance(peer, types.PeerUser):
        return f"user:{peer.user_id}"
    if isinstance(peer, types.PeerChat):
        return f"chat:{peer.chat_id}"
    return None


def forward_info(fwd: types.MessageFwdHeader | None) -> dict[str, Any] | None:
    """Where a forwarded post came from (origin channel + post id when Telegram tells)."""
    if fwd is None:
        return None
    return {"from": _peer(fwd.from_id), "from_name": fwd.from_name, "post_id": fwd.channel_post,
            "date": _iso(fwd.date), "post_author": fwd.post_author}


def _forward_label(fwd: dict[str, Any] | None) -> str | None:
    if not fwd:
        return None
    origin = fwd["from"] or fwd["from_name"] or "hidden"
    return f"{origin}/{fwd['post_id']}" if fwd["post_id"] else origin


def to_item(channel: str, messages: list[types.Message], media: list[MediaRecord],
            source_id: str | None = None) -> ItemRecord:
    """One post (or album) as an ItemRecord; converted from Telethon's own TL objects only."""
    first = messages[0]
    texted = next((m for m in messages if m.message), first)
    edits = [m.edit_date for m in messages if m.edit_date]
    fwd = forward_info(first.fwd_from)
    raw: dict[str, Any] = {
        "message_ids": [m.id for m in messages],
        "grouped_id": first.grouped_id,
        "edit_date": _iso(max(edits)) if edits else None,
        "forward": fwd,
        "reply_to": first.reply_to.reply_to_msg_id if isinstance(first.reply_to, types.MessageReplyHeader) else None,
        "replies": first.replies.replies if isinstance(first.replies, types.MessageReplies) else None,
        "media": [describe_media(m) for m in messages if m.media is not None],
    }
    return ItemRecord(
        source_kind=SOURCE_KIND, source_id=source_id or f"{channel}/{first.id}", text=texted.message or "", channel=channel,
        url=f"https://t.me/{channel}/{first.id}", posted_at=_iso(first.date), edited_at=raw["edit_date"],
        author=first.post_author, forwarded_from=_forward_label(fwd), views=first.views, raw=raw, media=media,
    )


def group_albums(messages: Iterable[types.Message]) -> Iterator[list[types.Message]]:
    """Consecutive messages with the same grouped_id come out as one list."""
    pending: list[types.Message] = []
    for message in messages:
        if pending and (message.grouped_id is None or message.grouped_id != pending[0].grouped_id):
            yield pending
            pending = []
        pending.append(message)
    if pending:
        yield pending


class TelethonChannelCollector(Collector):
    """Collects one Telegram channel through a `TelegramSource`."""

    name = "telethon"
    version = "1.0"

    def __init__(self, source: TelegramSource, channel: str, part_dir: Path, options: ChannelOptions,
                 checkpoint: dict[str, Any] | None = None) -> None:
        self.source = source
        self.channel = normalize_channel(channel)
        self.options = options
        self.last_id = int((checkpoint or {}).get("last_id", 0))
        self.deleted: list[str] = []
        self.downloader = MediaDownloader(source, self.channel, part_dir, options.retries, self._flood_wait)

    @property
    def source_key(self) -> str:
        return f"telegram:{self.channel}"

    def checkpoint(self) -> dict[str, Any] | None:
        return {"last_id": self.last_id}

    def deleted_at_source(self) -> list[tuple[str, str]]:
        return [(SOURCE_KIND, source_id) for source_id in self.deleted]

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        """1. new messages since the checkpoint; 2. re-sync of known items (edits, deletions)."""
        try:
            yield from self._collect_new()
            yield from self._resync()
        except _ChannelFailed as exc:
            yield CollectProblem(self.source_key, str(exc))

    def _flood_wait(self, exc: FloodWaitError) -> None:
        log.warning("telegram %s: flood wait, sleeping %d s as Telegram asks", self.channel, exc.seconds)
        self.options.sleep(exc.seconds)

    def _fetch_new(self) -> Iterator[types.Message]:
        """Messages after the checkpoint, retried (from where it stopped) on flood waits and errors."""
        failures = 0
        while True:
            try:
                for message in self.source.iter_messages(self.channel, self.last_id, self.options.since):
                    if isinstance(message, types.Message) and message.id > self.last_id:
                        yield message
                return
            except FloodWaitError as exc:
                self._flood_wait(exc)
            except (OSError, ValueError, RPCError) as exc:  # ValueError: Telethon's 'no such channel'
                failures += 1
                log.warning("telegram %s: fetch failed (%s), attempt %d", self.channel, exc, failures)
                if failures >= self.options.retries:
                    raise _ChannelFailed(f"gave up after {failures} failed attempts: {exc}") from None

    def _collect_new(self) -> Iterator[ItemRecord | CollectProblem]:
        for album in group_albums(self._fetch_new()):
            yield from self._emit(album)
            self.last_id = max(self.last_id, max(m.id for m in album))

    def _emit(self, album: list[types.Message], source_id: str | None = None) -> Iterator[ItemRecord | CollectProblem]:
        media: list[MediaRecord] = []
        for message in album:
            if describe_media(message) is None:
                continue
            record = self.downloader.fetch(message)
            if record.status != MediaStatus.STORED:
                yield CollectProblem(f"{self.channel}/{message.id}", record.note or "media not downloaded")
            media.append(record)
        yield to_item(self.channel, album, media, source_id)
        self.downloader.forget(album)                  # the archive holds the bytes now

    def _current(self, ids: list[int]) -> dict[int, types.Message]:
        """The messages with these ids that still exist, fetched 100 at a time."""
        current: dict[int, types.Message] = {}
        for start in range(0, len(ids), 100):
            batch = ids[start:start + 100]
            for attempt in range(self.options.retries + 1):
                try:
                    found = self.source.get_messages(self.channel, batch)
                    break
                except FloodWaitError as exc:
                    self._flood_wait(exc)
                except (OSError, RPCError) as exc:
                    if attempt >= self.options.retries:
                        raise _ChannelFailed(f"re-sync of known posts failed: {exc}") from None
            else:
                raise _ChannelFailed("re-sync of known posts kept hitting flood waits")
            current.update({m.id: m for m in found if isinstance(m, types.Message)})
        return current

    def _resync(self) -> Iterator[ItemRecord | CollectProblem]:
        """Known items: edited ones again (a new version), vanished ones into `deleted`."""
        known = self.options.known[: self.options.resync_items]
        current = self._current(sorted({i for item in known for i in item.message_ids}))
        for item in known:
            alive = [current[i] for i in item.message_ids if i in current]
            if not alive:
                self.deleted.append(item.source_id)
                continue
            edits = [m.edit_date for m in alive if m.edit_date]
            edit_date = _iso(max(edits)) if edits else None
            if edit_date != item.edit_date or len(alive) != len(item.message_ids):
                yield from self._emit(alive, item.source_id)


class _ChannelFailed(Exception):
    """The channel kept failing; reported once, the other channels go on."""


def known_items(conn: Any, channel: str, limit: int) -> list[KnownItem]:
    """The channel's most recent archived (not deleted) items, newest first."""
    rows = conn.execute(
        "SELECT source_id, raw FROM item WHERE source_kind = ? AND channel = ? AND deleted_at IS NULL"
        " ORDER BY posted_at DESC, id DESC LIMIT ?", (SOURCE_KIND, normalize_channel(channel), limit),
    ).fetchall()
    known = []
    for source_id, raw_json in rows:
        raw = json.loads(raw_json or "{}")
        ids = tuple(raw.get("message_ids") or [int(source_id.rsplit("/", 1)[1])])
        known.append(KnownItem(source_id, ids, raw.get("edit_date")))
    return known


DOWNLOADS = "downloads/telegram"


def open_client(workspace: "Workspace", source: "Source") -> TelegramSource:
    """A started Telegram client on the workspace's session (logging in only when `source.login`)."""
    from svidok.collectors.telethon_client import TelethonSource

    settings = workspace.settings.collect
    client = TelethonSource(workspace.root / "sessions", settings.telegram_api_id, settings.telegram_api_hash,
                            settings.telegram_phone)
    try:
        client.start(interactive=source.login)
    except BaseException:
        client.close()
        raise
    return client


def collectors_for(workspace: "Workspace", source: "Source") -> Iterator[TelethonChannelCollector]:
    """The `[[source]]` entry point for `kind = "telegram"` (needs a logged-in session, or `source.login`).

    1. the channel name is checked, then a Telegram client opened;
    2. the channel's checkpoint and its recently archived items are read;
    3. one collector for the channel; the client is closed when the generator is.
    """
    from svidok.foundation.archive import Archive

    settings = workspace.settings.collect
    channel = normalize_channel(source.target)                                                      # 1
    client = open_client(workspace, source)
    try:
        options = ChannelOptions(since=source.since, retries=settings.retries,
                                 resync_items=settings.telegram_resync_items,
                                 known=known_items(workspace.conn, channel, settings.telegram_resync_items))
        archive = Archive(workspace, TelethonChannelCollector.name, TelethonChannelCollector.version)
        checkpoint = archive.get_checkpoint(f"{SOURCE_KIND}:{channel}")                            # 2
        yield TelethonChannelCollector(client, channel, workspace.root / DOWNLOADS, options, checkpoint)  # 3
    finally:
        client.close()
