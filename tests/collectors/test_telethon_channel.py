"""The Telethon collector against an in-memory Telegram that speaks Telethon's own TL objects.

Messages are kept as TL wire bytes and parsed back with Telethon's BinaryReader on every
request, so the collector sees exactly the objects a real client would build; errors are
Telethon's own FloodWaitError / FileReferenceExpiredError.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from telethon.errors import FileReferenceExpiredError, FloodWaitError
from telethon.extensions import BinaryReader
from telethon.tl import types
from telethon.utils import get_input_location

from svidok.collectors import telethon_channel
from svidok.collectors.sources import Source
from svidok.collectors.telethon_channel import DOWNLOADS, ChannelOptions, TelethonChannelCollector, known_items
from svidok.foundation.archive import Archive
from svidok.pipeline import CollectReport, collect_sources, merged_report, run_collector

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(60_000)


class InMemoryTelegram:
    """A TelegramSource holding channels as TL bytes; files by id with a current file reference."""

    def __init__(self) -> None:
        self.channels: dict[str, dict[int, bytes]] = {}
        self.files: dict[int, bytes] = {}
        self.refs: dict[int, bytes] = {}
        self.calls: list[tuple] = []
        self.fail_download_after: int | None = None    # bytes, then ConnectionError (once)
        self.crash_download_after: int | None = None   # bytes, then KeyboardInterrupt (once)
        self.flood_after: int | None = None            # messages, then FloodWaitError (once)
        self.broken: set[str] = set()

    def close(self) -> None:
        self.calls.append(("close",))

    def post(self, channel: str, message: types.Message, data: bytes | None = None) -> None:
        self.channels.setdefault(channel, {})[message.id] = bytes(message)
        if data is not None:
            _, location = get_input_location(message)
            self.files[location.id] = data
            self.refs[location.id] = location.file_reference

    def delete(self, channel: str, message_id: int) -> None:
        del self.channels[channel][message_id]

    def _read(self, raw: bytes) -> types.Message:
        return BinaryReader(raw).tgread_object()

    def iter_messages(self, channel, min_id, offset_date):
        self.calls.append(("iter_messages", channel, min_id, offset_date))
        if channel in self.broken:
            raise ValueError(f'Cannot find any entity corresponding to "{channel}"')
        sent = 0
        for message_id in sorted(self.channels.get(channel, {})):
            message = self._read(self.channels[channel][message_id])
            if (min_id and message.id <= min_id) or (not min_id and offset_date and message.date <= offset_date):
                continue
            if self.flood_after is not None and sent == self.flood_after:
                self.flood_after = None
                raise FloodWaitError(request=None, capture=7)
            sent += 1
            yield message

    def get_messages(self, channel, ids):
        self.calls.append(("get_messages", channel, list(ids)))
        out = []
        for message_id in ids:
            raw = self.channels.get(channel, {}).get(message_id)
            message = self._read(raw) if raw else None
            if message is not None and message.media is not None:
                _, location = get_input_location(message)    # hand out the current file reference
                target = message.media.photo if isinstance(message.media, types.MessageMediaPhoto) else \
                    message.media.document
                target.file_reference = self.refs[location.id]
            out.append(message)
        return out

    def iter_download(self, message, offset):
        _, location = get_input_location(message)
        self.calls.append(("download", message.id, offset))
        if location.file_reference != self.refs[location.id]:
            raise FileReferenceExpiredError(request=None)
        data = self.files[location.id]
        for start in range(offset, len(data), 4096):
            if self.fail_download_after is not None and start >= self.fail_download_after:
                self.fail_download_after = None
                raise ConnectionError("connection reset by peer")
            if self.crash_download_after is not None and start >= self.crash_download_after:
                self.crash_download_after = None
                raise KeyboardInterrupt
            yield data[start:start + 4096]


def photo_message(mid: int, data: bytes, text: str = "", grouped_id: int | None = None,
                  ref: bytes = b"ref-1") -> types.Message:
    photo = types.Photo(id=9000 + mid, access_hash=11, file_reference=ref, date=T0,
                        sizes=[types.PhotoSize(type="s", w=32, h=24, size=900),
                               types.PhotoSize(type="y", w=64, h=48, size=len(data))], dc_id=2)
    return types.Message(id=mid, peer_id=types.PeerChannel(777), date=T0 + timedelta(minutes=mid), message=text,
                         post=True, media=types.MessageMediaPhoto(photo=photo), grouped_id=grouped_id, views=50 + mid, forwards=0)


def video_message(mid: int, data: bytes, forwarded: bool = True) -> types.Message:
    doc = types.Document(id=8000 + mid, access_hash=12, file_reference=b"ref-1", date=T0, mime_type="video/mp4",
                         size=len(data), dc_id=2, attributes=[
                             types.DocumentAttributeVideo(duration=3.0, w=640, h=360, supports_streaming=True),
                             types.DocumentAttributeFilename(file_name="captive.mp4")])
    fwd = types.MessageFwdHeader(date=T0 - timedelta(days=1), from_id=types.PeerChannel(555), channel_post=42) \
        if forwarded else None
    return types.Message(id=mid, peer_id=types.PeerChannel(777), date=T0 + timedelta(minutes=mid), message="видео",
                         post=True, media=types.MessageMediaDocument(document=doc), fwd_from=fwd, views=1000, forwards=9,
                         replies=types.MessageReplies(replies=17, replies_pts=3))


@pytest.fixture
def telegram() -> InMemoryTelegram:
    tg = InMemoryTelegram()
    tg.post("warnews", types.Message(id=1, peer_id=types.PeerChannel(777), date=T0, message="Пленный Иванов", post=True,
                                     views=321, forwards=2, replies=types.MessageReplies(replies=5, replies_pts=1),
                                     post_author="admin"))
    tg.post("warnews", photo_message(2, jpeg((200, 0, 0)), "альбом", grouped_id=4242), jpeg((200, 0, 0)))
    tg.post("warnews", photo_message(3, jpeg((0, 200, 0)), grouped_id=4242), jpeg((0, 200, 0)))
    tg.post("warnews", video_message(4, MP4), MP4)
    return tg


@pytest.fixture
def collect_channels(monkeypatch):
    """`svidok collect telegram` through the runner every collect command uses; the in-memory
    Telegram stands in for the client (the only part replaced: Telegram's servers)."""

    def collect(ws, client: InMemoryTelegram, channels: list[str], since: datetime | None) -> CollectReport:
        monkeypatch.setattr(telethon_channel, "open_client", lambda workspace, source: client)
        return merged_report(collect_sources(ws, [Source("telegram", c, since=since) for c in channels]))

    return collect


def rows(ws, sql: str, *args):
    return ws.conn.execute(sql, args).fetchall()


def test_posts_albums_forwards_and_media_are_archived(fresh_workspace, telegram, collect_channels):
    report = collect_channels(fresh_workspace, telegram, ["https://t.me/s/WarNews"], None)
    assert (report.items, report.media, report.errors) == (3, 3, [])
    items = {r[0]: r for r in rows(fresh_workspace, "SELECT source_id, text, views, forwarded_from, raw, author, url"
                                                    " FROM item WHERE source_kind = 'telegram'")}
    assert set(items) == {"warnews/1", "warnews/2", "warnews/4"}
    assert items["warnews/1"][1:3] == ("Пленный Иванов", 321) and items["warnews/1"][5] == "admin"
    assert json.loads(items["warnews/1"][4])["replies"] == 5
    album = json.loads(items["warnews/2"][4])
    assert album["message_ids"] == [2, 3] and album["grouped_id"] == 4242 and items["warnews/2"][1] == "альбом"
    shas = [r[0] for r in rows(fresh_workspace, "SELECT media_sha256 FROM item_media im JOIN item i ON i.id = im.item_id"
                                                " WHERE i.source_id = 'warnews/2' ORDER BY position")]
    assert shas == [hashlib.sha256(jpeg((200, 0, 0))).hexdigest(), hashlib.sha256(jpeg((0, 200, 0))).hexdigest()]
    video = json.loads(items["warnews/4"][4])
    assert items["warnews/4"][3] == "channel:555/42" and video["forward"]["post_id"] == 42
    assert video["media"][0]["role"] == "video" and video["media"][0]["duration"] == 3.0
    role, sha = rows(fresh_workspace, "SELECT role, media_sha256 FROM item_media im JOIN item i ON i.id = im.item_id"
                                      " WHERE i.source_id = 'warnews/4'")[0]
    assert role == "video" and sha == hashlib.sha256(MP4).hexdigest()
    assert not any((fresh_workspace.root / DOWNLOADS).iterdir())          # no part files left behind


def test_incremental_runs_and_since(fresh_workspace, telegram, collect_channels):
    collect_channels(fresh_workspace, telegram, ["warnews"], None)
    telegram.post("warnews", types.Message(id=5, peer_id=types.PeerChannel(777), date=T0 + timedelta(hours=1),
                                           message="новое", post=True))
    report = collect_channels(fresh_workspace, telegram, ["warnews"], None)
    assert (report.items, report.updated) == (1, 0)
    assert ("iter_messages", "warnews", 4, None) in telegram.calls
    other = InMemoryTelegram()
    for m in (1, 2):
        other.post("late", types.Message(id=m, peer_id=types.PeerChannel(1), date=T0 + timedelta(days=m),
                                         message=f"m{m}"))
    report = collect_channels(fresh_workspace, other, ["late"], T0 + timedelta(days=1, hours=1))
    assert report.items == 1
    assert rows(fresh_workspace, "SELECT source_id FROM item WHERE channel = 'late'") == [("late/2",)]


def test_edits_become_versions_and_deletions_are_recorded(fresh_workspace, telegram, collect_channels):
    collect_channels(fresh_workspace, telegram, ["warnews"], None)
    edited = types.Message(id=1, peer_id=types.PeerChannel(777), date=T0, message="Пленный Иванов Иван", post=True,
                           edit_date=T0 + timedelta(hours=2), views=400, forwards=3)
    telegram.post("warnews", edited)
    telegram.delete("warnews", 4)
    report = collect_channels(fresh_workspace, telegram, ["warnews"], None)
    assert (report.items, report.updated) == (0, 1)
    events = rows(fresh_workspace, "SELECT v.event, v.text FROM item_version v JOIN item i ON i.id = v.item_id"
                                   " WHERE i.source_id = 'warnews/1' ORDER BY v.id")
    assert events == [("seen", "Пленный Иванов"), ("edited", "Пленный Иванов Иван")]
    deleted = rows(fresh_workspace, "SELECT source_id FROM item WHERE deleted_at IS NOT NULL")
    assert deleted == [("warnews/4",)]
    assert [k.source_id for k in known_items(fresh_workspace.conn, "warnews", 10)] == ["warnews/2", "warnews/1"]
    again = collect_channels(fresh_workspace, telegram, ["warnews"], None)      # nothing changed since
    assert (again.items, again.updated) == (0, 0)


def test_flood_wait_is_slept_and_expired_reference_refreshed(fresh_workspace, telegram):
    telegram.flood_after = 2
    for file_id in list(telegram.refs):
        telegram.refs[file_id] = b"ref-2"                  # every reference the messages carry is stale now
    slept: list[float] = []
    collector = TelethonChannelCollector(telegram, "warnews", fresh_workspace.root / DOWNLOADS,
                                         ChannelOptions(sleep=slept.append))
    report = run_collector(fresh_workspace, collector)
    assert slept == [7]
    assert (report.items, report.media, report.errors) == (3, 3, [])
    refreshed = [c for c in telegram.calls if c[0] == "get_messages"]
    assert [c[2] for c in refreshed] == [[2], [3], [4]]


def test_download_resumes_after_connection_loss_and_crash(fresh_workspace, telegram):
    telegram.fail_download_after = 16384
    collector = TelethonChannelCollector(telegram, "warnews", fresh_workspace.root / DOWNLOADS, ChannelOptions())
    telegram.crash_download_after = 40960
    with pytest.raises(KeyboardInterrupt):
        run_collector(fresh_workspace, collector)
    downloads = [c for c in telegram.calls if c[0] == "download" and c[1] == 4]
    assert [c[2] for c in downloads] == [0, 16384]
    part = next((fresh_workspace.root / DOWNLOADS).glob("warnews-4-*.part"))
    assert part.stat().st_size == 40960
    assert rows(fresh_workspace, "SELECT count(*) FROM item WHERE source_id = 'warnews/4'") == [(0,)]
    checkpoint = Archive(fresh_workspace, "telethon", "1.0").get_checkpoint(collector.source_key)
    committed = rows(fresh_workspace, "SELECT count(*) FROM item")[0][0]
    assert checkpoint["last_id"] < 4                   # covers only what was committed before the crash
    resumed = TelethonChannelCollector(telegram, "warnews", fresh_workspace.root / DOWNLOADS, ChannelOptions(),
                                       checkpoint)
    report = run_collector(fresh_workspace, resumed)
    assert ("download", 4, 40960) in telegram.calls
    assert report.items == 3 - committed                # a re-read item is recognised, not stored twice
    assert rows(fresh_workspace, "SELECT count(*) FROM item") == [(3,)]      # nothing lost, nothing twice
    sha = rows(fresh_workspace, "SELECT media_sha256 FROM item_media im JOIN item i ON i.id = im.item_id"
                                " WHERE i.source_id = 'warnews/4'")[0][0]
    assert sha == hashlib.sha256(MP4).hexdigest()


def test_failing_channel_is_reported_and_others_go_on(fresh_workspace, telegram, collect_channels):
    telegram.broken.add("gone")
    report = collect_channels(fresh_workspace, telegram, ["gone", "warnews", "bad/name"], None)
    assert report.items == 3
    where = [e["where"] for e in report.errors]
    assert where == ["telegram:gone", "bad/name"]
    assert "3 failed attempts" in report.errors[0]["error"]


def test_cli_needs_api_credentials_and_keeps_session_private(fresh_workspace, monkeypatch):
    from click.testing import CliRunner

    from svidok.cli.collect import telegram as telegram_command
    from svidok.collectors.telethon_client import TelethonSource

    monkeypatch.delenv("SVIDOK_COLLECT_TELEGRAM_API_ID", raising=False)
    result = CliRunner().invoke(telegram_command, ["warnews", "--workspace", str(fresh_workspace.root), "--json"])
    assert result.exit_code == 1 and "telegram_api_id" in result.output
    TelethonSource(fresh_workspace.root / "sessions", 12345, "0123456789abcdef", "+10000000000")
    session = fresh_workspace.root / "sessions" / "telegram.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert stat.S_IMODE((fresh_workspace.root / "sessions").stat().st_mode) == 0o700
