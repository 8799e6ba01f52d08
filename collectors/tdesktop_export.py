"""Telegram Desktop exports (machine-readable JSON): one chat/channel or a full account.

Telegram Desktop writes `result.json` either for one chat (`{"name", "type", "id", "messages"}`)
or for the whole account (`{"chats": {"list": [...]}, "left_chats": {"list": [...]}, ...}`).
Media are files next to it, referenced by relative path (`photos/...jpg`,
`video_files/...mp4`, `round_video_messages/...`, `voice_messages/...ogg`, `files/...`), or
by a placeholder such as "(File not included. Change data exporting settings to download.)"
when the user did not export them: those become `missing` media, not errors.

A truncated or malformed result.json is salvaged message by message: what parses is
archived, the rest is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from svidok.collectors.base import Collector, CollectProblem
from svidok.foundation.archive import ItemRecord, MediaRecord, MediaStatus

# media_type in the export -> (role, acceptable MIME major types)
MEDIA_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "video_file": ("video", ("video",)),
    "round_video_message": ("round_video", ("video",)),
    "voice_message": ("voice", ("audio", "video")),
    "audio_file": ("audio", ("audio", "video")),
    "animation": ("animation", ("video", "image")),
    "sticker": ("sticker", ()),
    "video_message": ("round_video", ("video",)),
}
KNOWN_FIELDS = {
    "id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id", "author", "text",
    "text_entities", "forwarded_from", "saved_from", "reply_to_message_id", "reply_to_peer_id", "photo",
    "photo_file_size", "file", "file_name", "file_size", "thumbnail", "thumbnail_file_size", "media_type",
    "mime_type", "duration_seconds", "width", "height", "sticker_emoji", "actor", "actor_id", "action",
    "message_id", "title", "members", "poll", "location_information", "contact_information", "via_bot",
    "performer", "reactions", "inline_bot_buttons", "self_destruct_period_seconds", "live_location_period_seconds",
    "game_title", "invoice_information", "place_name", "address", "contact_vcard", "media_spoiler", "duration",
    "discard_reason", "forwarded_from_id", "boosts", "new_title", "new_icon_emoji_id", "todo_list",
}


class ExportError(ValueError):
    """The folder is not a Telegram Desktop JSON export."""


def flatten_text(text: Any) -> str:
    """The export's `text` is a string or a list of strings and {type, text} entities."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        parts = []
        for part in text:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return ""


def _utc(message: dict[str, Any], unix_key: str, local_key: str) -> str | None:
    if message.get(unix_key):
        try:
            return datetime.fromtimestamp(int(message[unix_key]), UTC).isoformat(timespec="seconds")
        except (TypeError, ValueError, OverflowError):
            pass
    # Without the unix time only the exporting machine's local time is known: keep it unmarked.
    return message.get(local_key)


def _is_placeholder(value: str) -> bool:
    return value.startswith("(") and value.endswith(")")


def salvage_chats(raw_text: str) -> tuple[list[dict[str, Any]], str]:
    """Recover complete messages from a truncated/malformed result.json.

    Returns the chats found (each with the messages that parsed) and a description of where
    parsing stopped.
    """
    decoder = json.JSONDecoder()
    chats, problem = [], ""
    for match in re.finditer(r'"messages"\s*:\s*\[', raw_text):
        before = raw_text[max(0, match.start() - 4000):match.start()]
        names = re.findall(r'"name"\s*:\s*("(?:[^"\\]|\\.)*"|null)', before)
        ids = re.findall(r'"id"\s*:\s*(-?\d+)', before)
        chat = {"name": json.loads(names[-1]) if names else None, "id": int(ids[-1]) if ids else 0, "messages": []}
        pos = match.end()
        while True:
            while pos < len(raw_text) and raw_text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(raw_text) or raw_text[pos] == "]":
                break
            try:
                message, pos = decoder.raw_decode(raw_text, pos)
            except json.JSONDecodeError as exc:
                line = raw_text.count("\n", 0, pos) + 1
                problem = f"stopped at line {line}: {exc.msg}"
                break
            if isinstance(message, dict):
                chat["messages"].append(message)
        chats.append(chat)
    return chats, problem


class TelegramDesktopExport(Collector):
    """Reads a Telegram Desktop export folder (single chat or full account)."""

    name: ClassVar[str] = "tdesktop"
    version: ClassVar[str] = "1.0"

    def __init__(self, export_dir: Path, language: str | None = None) -> None:
        self.export_dir = export_dir
        self.language = language
        self.root = export_dir.resolve()
        self._unknown_reported: set[str] = set()

    @property
    def source_key(self) -> str:
        return f"tdesktop:{self.root}"

    def _load(self) -> tuple[list[dict[str, Any]], list[CollectProblem]]:
        result = self.export_dir / "result.json"
        if not self.export_dir.is_dir():
            raise ExportError(f"{self.export_dir}: not a folder")
        if not result.is_file():
            raise ExportError(f"{self.export_dir}: no result.json (export with format 'Machine-readable JSON')")
        raw_text = result.read_text(encoding="utf-8", errors="replace")
        try:
            data = json.loads(raw_text)
        except json.JSONDecodeError as exc:
            chats, where = salvage_chats(raw_text)
            problem = CollectProblem("result.json", f"not valid JSON ({exc.msg} at line {exc.lineno}); salvaged "
                                     f"{sum(len(c['messages']) for c in chats)} complete messages, {where}")
            return chats, [problem]
        if not isinstance(data, dict):
            raise ExportError("result.json: expected a JSON object at the top")
        if "messages" in data:
            return [data], []
        chats: list[dict[str, Any]] = []
        for key in ("chats", "left_chats"):
            chats.extend(c for c in (data.get(key) or {}).get("list", []) if isinstance(c, dict))
        if not chats and "chats" not in data:
            raise ExportError("result.json: neither a chat export (messages) nor an account export (chats.list)")
        return chats, []

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        chats, problems = self._load()
        yield from problems
        for chat in chats:
            messages = chat.get("messages")
            if not isinstance(messages, list):
                yield CollectProblem(f"chat {chat.get('name')!r}", "has no message list")
                continue
            for message in messages:
                if not isinstance(message, dict) or "id" not in message:
                    yield CollectProblem(f"chat {chat.get('name')!r}", f"skipped an entry that is not a message: "
                                         f"{str(message)[:80]}")
                    continue
                yield from self._unknown_fields(message)
                yield self._item(chat, message)

    def _unknown_fields(self, message: dict[str, Any]) -> Iterator[CollectProblem]:
        for key in message.keys() - KNOWN_FIELDS - self._unknown_reported:
            self._unknown_reported.add(key)
            yield CollectProblem(f"message {message.get('id')}", f"unknown field {key!r} (kept in raw metadata)")

    def _item(self, chat: dict[str, Any], message: dict[str, Any]) -> ItemRecord:
        service = message.get("type") == "service"
        text = flatten_text(message.get("text"))
        if service and not text:
            text = f"[{message.get('action', 'service')}] {message.get('actor') or ''}".strip()
        return ItemRecord(
            source_kind="tdesktop",
            source_id=f"{chat.get('id', 0)}/{message['id']}",
            text=text,
            channel=chat.get("name"),
            posted_at=_utc(message, "date_unixtime", "date"),
            edited_at=_utc(message, "edited_unixtime", "edited"),
            author=message.get("author") or message.get("from") or message.get("actor"),
            forwarded_from=message.get("forwarded_from") or message.get("saved_from"),
            language=self.language,
            kind="service" if service else "post",
            raw={"chat": {"name": chat.get("name"), "type": chat.get("type"), "id": chat.get("id")},
                 "message": message},
            media=list(self._media(message)),
        )

    def _media(self, message: dict[str, Any]) -> Iterator[MediaRecord]:
        if isinstance(message.get("photo"), str):
            yield self._media_record(message["photo"], "photo", ("image",))
        if isinstance(message.get("file"), str):
            role, expect = MEDIA_TYPES.get(message.get("media_type", ""), ("file", ()))
            yield self._media_record(message["file"], role, expect, message.get("file_name"))

    def _media_record(self, ref: str, role: str, expect: tuple[str, ...], name: str | None = None) -> MediaRecord:
        if _is_placeholder(ref):
            return MediaRecord(role, ref, status=MediaStatus.MISSING, note=ref.strip("()"))
        candidate = (self.root / ref).resolve()
        if not candidate.is_relative_to(self.root):
            return MediaRecord(role, ref, status=MediaStatus.REJECTED,
                               note="refused: the path resolves outside the export folder")
        if not candidate.is_file():
            return MediaRecord(role, ref, status=MediaStatus.MISSING, note="file not found in the export folder")
        return MediaRecord(role, ref, path=candidate, original_name=name or candidate.name, expect=expect)
