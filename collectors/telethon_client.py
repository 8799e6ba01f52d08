"""The Telegram client boundary: the `TelegramSource` protocol (all the collector asks of
Telegram) and the real one, a Telethon `TelegramClient` driven from synchronous code.

The session file lives in the workspace's `sessions/` folder (mode 0700), is created with
mode 0600 before Telethon opens it, and its path is never logged. Logging in needs the
account's phone and the code Telegram sends, so the first run must be interactive.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from telethon.tl import types

SESSION_NAME = "telegram.session"


class TelegramSource(Protocol):
    """The narrow client boundary: all the collector asks of Telegram."""

    def iter_messages(self, channel: str, min_id: int, offset_date: datetime | None) -> Iterable[types.Message]:
        """Messages with id > min_id (or, when min_id is 0, after offset_date), oldest first."""

    def get_messages(self, channel: str, ids: list[int]) -> list[types.Message | None]:
        """The messages with these ids, None where one no longer exists."""

    def iter_download(self, message: types.Message, offset: int) -> Iterable[bytes]:
        """The bytes of the message's media from `offset` on."""

    def close(self) -> None:
        """Disconnect (the collector is done with this client)."""


class TelegramLoginError(Exception):
    """The client is not configured or not logged in."""


def session_file(sessions_dir: Path) -> Path:
    """The session file, created empty with mode 0600 when missing (Telethon fills it in)."""
    sessions_dir.mkdir(mode=0o700, exist_ok=True)
    path = sessions_dir / SESSION_NAME
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


class TelethonSource:
    """TelegramSource over a real TelegramClient (one private event loop)."""

    def __init__(self, sessions_dir: Path, api_id: int, api_hash: str, phone: str) -> None:
        if not api_id or not api_hash:
            raise TelegramLoginError("set collect.telegram_api_id and collect.telegram_api_hash "
                                     "(SVIDOK_COLLECT_TELEGRAM_API_ID / _API_HASH); get them at my.telegram.org")
        from telethon import TelegramClient

        self.loop = asyncio.new_event_loop()
        self.phone = phone
        path = session_file(sessions_dir)
        self.client = TelegramClient(str(path.with_suffix("")), api_id, api_hash, loop=self.loop)

    def start(self, interactive: bool) -> None:
        """Connect; log in (asks for the code on the terminal) only when `interactive`."""
        self.loop.run_until_complete(self.client.connect())
        if self.loop.run_until_complete(self.client.is_user_authorized()):
            return
        if not interactive or not self.phone:
            raise TelegramLoginError("this workspace's Telegram session is not logged in; run "
                                     "`svidok collect telegram --login` in a terminal (needs collect.telegram_phone)")
        self.loop.run_until_complete(self.client.start(phone=self.phone))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self.client.disconnect())
        self.loop.close()

    def _sync(self, agen: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self.loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return

    def iter_messages(self, channel: str, min_id: int, offset_date: datetime | None) -> Iterator[types.Message]:
        return self._sync(self.client.iter_messages(channel, min_id=min_id, offset_date=offset_date,
                                                    reverse=True).__aiter__())

    def get_messages(self, channel: str, ids: list[int]) -> list[types.Message | None]:
        found = self.loop.run_until_complete(self.client.get_messages(channel, ids=ids))
        return list(found)

    def iter_download(self, message: types.Message, offset: int) -> Iterator[bytes]:
        return self._sync(self.client.iter_download(message.media, offset=offset).__aiter__())
