"""Telegram media: what a message carries, and downloads that survive interruptions.

A download goes to `<part_dir>/<channel>-<message id>-<file id>.part`, appended to as bytes
arrive; an interrupted download (crash, lost connection) continues from the part file's size
the next time. Only a complete file (size as Telegram announced it) is renamed and handed to
the archive. An expired file reference is refreshed by fetching the message again; a flood
wait is slept out; other errors are retried `retries` times, then the media is recorded as
missing with the reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon.errors import FileReferenceExpiredError, FloodWaitError, RPCError
from telethon.tl import types

from svidok.foundation.archive import MediaRecord, MediaStatus

if TYPE_CHECKING:
    from svidok.collectors.telethon_client import TelegramSource

log = logging.getLogger(__name__)


def photo_bytes(photo: types.Photo) -> int:
    """Size of the largest photo size (the one Telethon downloads: `sizes[-1]`)."""
    size = photo.sizes[-1] if photo.sizes else None
    if isinstance(size, types.PhotoSizeProgressive):
        return max(size.sizes)
    if isinstance(size, types.PhotoSize):
        return size.size
    if isinstance(size, types.PhotoCachedSize):
        return len(size.bytes)
    return 0


def _document_info(doc: types.Document) -> dict[str, Any]:
    info: dict[str, Any] = {"type": "document", "role": "file", "id": doc.id, "size": doc.size,
                            "mime": doc.mime_type}
    for attr in doc.attributes:
        if isinstance(attr, types.DocumentAttributeFilename):
            info["file_name"] = attr.file_name
        elif isinstance(attr, types.DocumentAttributeVideo):
            info.update(role="round_video" if attr.round_message else "video", duration=attr.duration,
                        w=attr.w, h=attr.h)
        elif isinstance(attr, types.DocumentAttributeAudio):
            info.update(role="voice" if attr.voice else "audio", duration=attr.duration)
        elif isinstance(attr, types.DocumentAttributeSticker):
            info["role"] = "sticker"
    return info


def describe_media(message: types.Message) -> dict[str, Any] | None:
    """The message's media as plain facts; `role` is None when there is nothing to download."""
    media = message.media
    if media is None:
        return None
    if isinstance(media, types.MessageMediaPhoto) and isinstance(media.photo, types.Photo):
        last = media.photo.sizes[-1] if media.photo.sizes else None
        return {"type": "photo", "role": "photo", "id": media.photo.id, "size": photo_bytes(media.photo),
                "mime": "image/jpeg", "w": getattr(last, "w", None), "h": getattr(last, "h", None)}
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        return _document_info(media.document)
    if isinstance(media, types.MessageMediaWebPage) and isinstance(media.webpage, types.WebPage):
        return {"type": "webpage", "role": None, "url": media.webpage.url}
    return {"type": type(media).__name__, "role": None}


class MediaDownloader:
    """Downloads one channel's media into part files, resuming where a previous try stopped."""

    def __init__(self, source: "TelegramSource", channel: str, part_dir: Path, retries: int,
                 flood_wait: Callable[[FloodWaitError], None]) -> None:
        self.source = source
        self.channel = channel
        self.part_dir = part_dir
        self.retries = max(1, retries)
        self.flood_wait = flood_wait
        self.done: dict[int, Path] = {}

    def fetch(self, message: types.Message) -> MediaRecord:
        """Download the message's media; a MediaRecord with the complete file or status MISSING."""
        info = describe_media(message) or {}
        ref = f"https://t.me/{self.channel}/{message.id}?single"
        self.part_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = f"{self.channel}-{message.id}-{info['id']}"
        final = self.part_dir / f"{stem}.done"
        if not final.exists():
            problem = self._download(message, self.part_dir / f"{stem}.part", int(info.get("size") or 0))
            if problem:
                return MediaRecord(role=info["role"], source_ref=ref, status=MediaStatus.MISSING, note=problem)
            os.replace(self.part_dir / f"{stem}.part", final)
        self.done[message.id] = final
        return MediaRecord(role=info["role"], source_ref=ref, path=final, original_name=info.get("file_name"))

    def forget(self, messages: list[types.Message]) -> None:
        """Remove the downloaded files of these messages (called once the archive has them)."""
        for message in messages:
            path = self.done.pop(message.id, None)
            if path is not None:
                path.unlink(missing_ok=True)

    def _download(self, message: types.Message, part: Path, expected: int) -> str | None:
        """Fill `part` up to `expected` bytes; returns None when complete, else the reason."""
        failures = 0
        while True:
            offset = part.stat().st_size if part.exists() else 0
            if expected and offset > expected:
                part.unlink()                          # not the file we are after any more
                offset = 0
            if expected and offset == expected:
                return None
            try:
                self._append(message, part, offset)
                if not expected or part.stat().st_size >= expected:
                    return None if part.stat().st_size else "empty download"
                raise ConnectionError(f"download ended at {part.stat().st_size} of {expected} bytes")
            except FileReferenceExpiredError:
                failures += 1
                log.info("telegram %s/%d: file reference expired, fetching the message again", self.channel, message.id)
                fresh = self.source.get_messages(self.channel, [message.id])
                if not fresh or not isinstance(fresh[0], types.Message) or fresh[0].media is None:
                    return "the message was deleted during the download"
                message = fresh[0]
            except FloodWaitError as exc:
                self.flood_wait(exc)
                continue
            except (OSError, RPCError) as exc:
                failures += 1
                log.warning("telegram %s/%d: download failed at byte %d (%s)", self.channel, message.id,
                            part.stat().st_size if part.exists() else 0, exc)
            if failures >= self.retries + 1:
                return f"download failed after {failures} attempts"

    def _append(self, message: types.Message, part: Path, offset: int) -> None:
        with part.open("ab") as out:
            try:
                for chunk in self.source.iter_download(message, offset):
                    out.write(chunk)
            finally:
                out.flush()
                os.fsync(out.fileno())
