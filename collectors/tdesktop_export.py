"""Telegram Desktop exports (machine-readable JSON): one chat/channel or a full account.

Telegram Desktop writes `result.json` either for one chat (`{"name", "type", "id", "messages"}`)
or for the whole account (`{"chats": {"list": [...]}, "left_chats": {"list": [...]}, ...}`).
Media are files next to it, referenced by relative path (`photos/...jpg`,
`video_files/...mp4`, `round_video_messages/...`, `voice_messages/...ogg`, `files/...`), or
by a placeholder such as "(File not included. Change data exporting settings to download.)"
when the user did not export them: those become `missing` media, not errors.

A truncated or malformed result.json is salvaged message by message: what parses is
archived, the rest is reported. The export is hostile input: a message with a field of the
wrong type, a lone surrogate or absurd nesting is skipped and reported (`message_fault`), a
media path may not leave the export folder, and result.json is read only up to
`MAX_RESULT_JSON_BYTES`.
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
    "video_file": ("video", ("video",)), "round_video_message": ("round_video", ("video",)),
    "voice_message": ("voice", ("audio", "video")), "audio_file": ("audio", ("audio", "video")),
    "animation": ("animation", ("video", "image")), "sticker": ("sticker", ()),
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
MAX_RESULT_JSON_BYTES = 1024**3   # result.json is read into memory whole; real exports stay far below this
MAX_DEPTH = 32                    # levels inside one message; real exports use about 5
MAX_SKIPS = 1000                  # unreadable stretches skipped (whole file) before salvage gives up
# Fields the importer reads, with the JSON types Telegram Desktop writes for them (null is always accepted).
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "type": (str,), "date": (str,), "date_unixtime": (str, int), "edited": (str,), "edited_unixtime": (str, int),
    "from": (str,), "author": (str,), "actor": (str,), "action": (str,), "forwarded_from": (str,),
    "saved_from": (str,), "text": (str, list), "photo": (str,), "file": (str,), "file_name": (str,),
    "media_type": (str,),
}
_JSON_KINDS = {str: "text", int: "a whole number", float: "a decimal number", bool: "a boolean", list: "a list",
               dict: "an object"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_MESSAGE_START = re.compile(r'\{\s*"id"\s*:\s*-?[0-9]')
RESYNC_NEAR = 1 << 20   # a message failing further than this from its start resumes after the failure (linear time)


class ExportError(ValueError):
    """The folder is not a Telegram Desktop JSON export, or result.json cannot be read at all."""


def _kind(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A short, printable rendering of a scalar from the export (containers by kind only)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return _SURROGATE.sub("\ufffd", repr(value)[:60])
    return f"({_kind(value)})"


def flatten_text(text: Any) -> str:
    """The export's `text` is a string or a list of strings and {type, text} entities."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        parts = [part if isinstance(part, str) else part.get("text") for part in text if isinstance(part, (str, dict))]
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def shape_fault(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value cannot be stored: nested too deep or a lone surrogate (None: it can)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return "it holds a lone UTF-16 surrogate (broken text)"
        elif isinstance(node, (dict, list)):
            if depth >= limit:
                return f"it is nested deeper than {limit} levels"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


def message_fault(message: dict[str, Any]) -> str | None:
    """Why this message cannot be archived (None: it can)."""
    if type(message.get("id")) is not int:
        return f"its id is {_kind(message.get('id'))}, not a whole number"
    for key, types in FIELD_TYPES.items():
        value = message.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            expected = " or ".join(_kind(t()) for t in types)
            return f"{key!r} is {_kind(value)}, not {expected}"
    return shape_fault(message)


def _utc(message: dict[str, Any], unix_key: str, local_key: str) -> str | None:
    if message.get(unix_key):
        try:
            return datetime.fromtimestamp(int(message[unix_key]), UTC).isoformat(timespec="seconds")
        except (TypeError, ValueError, OverflowError, OSError):
            pass
    # Without the unix time only the exporting machine's local time is known: keep it unmarked.
    return message.get(local_key)


def _chat_head(before: str) -> dict[str, Any]:
    """Name and id of the chat whose message list starts right after `before` (salvage only)."""
    names = re.findall(r'"name"\s*:\s*("(?:[^"\\]|\\.)*"|null)', before)
    ids = re.findall(r'"id"\s*:\s*(-?[0-9]{1,20})\b', before)
    try:
        return {"name": json.loads(names[-1]) if names else None, "id": int(ids[-1]) if ids else 0, "messages": []}
    except ValueError:      # a broken escape in the name
        return {"name": None, "id": int(ids[-1]) if ids else 0, "messages": []}


def _salvage_messages(raw_text: str, pos: int, end: int, stops: list[str]) -> tuple[list[Any], int]:
    """Decode messages from `pos`; skip a stretch that does not parse up to the next message start."""
    decoder, messages = json.JSONDecoder(), []
    while len(stops) < MAX_SKIPS:
        while pos < len(raw_text) and raw_text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(raw_text) or raw_text[pos] == "]":
            break
        try:
            message, pos = decoder.raw_decode(raw_text, pos)
            messages.append(message)
            continue
        except RecursionError:      # finding where such a value ends costs too much: skip the rest of the chat
            reason, resume_at = "nested too deep (rest of the chat skipped)", end
        except ValueError as exc:
            reason, failed_at = getattr(exc, "msg", str(exc))[:80].removesuffix(" at"), getattr(exc, "pos", pos)
            resume_at = failed_at if failed_at - pos > RESYNC_NEAR else pos + 1
        stops.append(f"line {raw_text.count(chr(10), 0, pos) + 1}: {reason}" if len(stops) < 3 else reason)
        resume = _MESSAGE_START.search(raw_text, resume_at, end)
        if resume is None:
            break
        pos = resume.start()
    return messages, pos


def salvage_chats(raw_text: str) -> tuple[list[dict[str, Any]], str]:
    """Recover complete messages from a truncated/malformed result.json.

    Returns the chats found (each with the messages that parsed) and a description of where
    parsing failed (a stretch that does not parse is skipped up to the next message of its chat).
    """
    starts = list(re.finditer(r'"messages"\s*:\s*\[', raw_text))
    chats, stops, consumed = [], [], 0
    for number, match in enumerate(starts):
        if match.start() < consumed or len(stops) >= MAX_SKIPS:   # inside a message already read, or given up
            continue
        previous = starts[number - 1].start() if number else 0     # the lookback stays linear in the file size
        chat = _chat_head(raw_text[max(previous, match.start() - 4000):match.start()])
        end = starts[number + 1].start() if number + 1 < len(starts) else len(raw_text)
        chat["messages"], consumed = _salvage_messages(raw_text, match.end(), end, stops)
        chats.append(chat)
    more = f" (and {len(stops) - 3} more unreadable stretches)" if len(stops) > 3 else ""
    more += f"; gave up after {MAX_SKIPS}" if len(stops) >= MAX_SKIPS else ""
    return chats, f"stopped at {'; '.join(stops[:3])}{more}" if stops else ""


def _chat_lists(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[CollectProblem]]:
    """The chats of a full-account export (`chats.list`, `left_chats.list`), and what is not a chat."""
    chats: list[dict[str, Any]] = []
    problems: list[CollectProblem] = []
    for key in ("chats", "left_chats"):
        section = data.get(key)
        entries = section.get("list", []) if isinstance(section, dict) else []
        if section is not None and not isinstance(section, dict):
            problems.append(CollectProblem("result.json", f"{key!r} is {_kind(section)}, not an object; skipped"))
        elif not isinstance(entries, list):
            problems.append(CollectProblem("result.json", f"'{key}.list' is {_kind(entries)}, not a list; skipped"))
            entries = []
        chats.extend(entry for entry in entries if isinstance(entry, dict))
        problems.extend(CollectProblem("result.json", f"an entry of '{key}.list' is {_kind(entry)}, not a chat; "
                                       "skipped") for entry in entries if not isinstance(entry, dict))
    return chats, problems


class TelegramDesktopExport(Collector):
    """Reads a Telegram Desktop export folder (single chat or full account)."""

    name: ClassVar[str] = "tdesktop"
    version: ClassVar[str] = "1.1"

    def __init__(self, export_dir: Path, language: str | None = None, max_json_bytes: int | None = None) -> None:
        self.export_dir = export_dir
        self.language = language
        self.root = export_dir.resolve()
        self.max_json_bytes = max_json_bytes or MAX_RESULT_JSON_BYTES
        self._unknown_reported: set[str] = set()

    @property
    def source_key(self) -> str:
        return f"tdesktop:{self.root}"

    def _read(self) -> str:
        result = self.export_dir / "result.json"
        if not self.export_dir.is_dir():
            raise ExportError(f"{self.export_dir}: not a folder")
        if not result.is_file():
            raise ExportError(f"{self.export_dir}: no result.json (export with format 'Machine-readable JSON')")
        if not result.resolve().is_relative_to(self.root):
            raise ExportError("result.json: refused, it is a link to a file outside the export folder")
        too_big = f"result.json: more than the {self.max_json_bytes} bytes this importer reads into memory"
        try:
            if result.stat().st_size > self.max_json_bytes:
                raise ExportError(too_big)
            with result.open("rb") as handle:
                raw = handle.read(self.max_json_bytes + 1)
        except OSError as exc:
            raise ExportError(f"result.json: cannot be read ({exc.strerror})") from None
        if len(raw) > self.max_json_bytes:
            raise ExportError(too_big)
        return raw.decode("utf-8-sig", errors="replace")

    def _load(self) -> tuple[list[dict[str, Any]], list[CollectProblem]]:
        raw_text = self._read()
        try:
            data = json.loads(raw_text)
        except (ValueError, RecursionError) as exc:
            why = (f"not valid JSON ({exc.msg.removesuffix(' at')} at line {exc.lineno})"
                   if isinstance(exc, json.JSONDecodeError)
                   else "nested too deep to read whole" if isinstance(exc, RecursionError)
                   else f"not readable whole ({str(exc)[:80]})")
            chats, where = salvage_chats(raw_text)
            salvaged = sum(len(c["messages"]) for c in chats)
            return chats, [CollectProblem("result.json", f"{why}; salvaged {salvaged} complete messages, {where}")]
        if not isinstance(data, dict):
            raise ExportError("result.json: expected a JSON object at the top")
        if "messages" in data:
            return [data], []
        if not any(key in data for key in ("chats", "left_chats")):
            raise ExportError("result.json: neither a chat export (messages) nor an account export (chats.list)")
        return _chat_lists(data)

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        chats, problems = self._load()
        yield from problems
        for chat in chats:
            yield from self._chat(chat)

    def _chat(self, chat: dict[str, Any]) -> Iterator[ItemRecord | CollectProblem]:
        name, messages = chat.get("name"), chat.get("messages")
        label = f"chat {_shown(name)}" if isinstance(name, str) else f"chat id {_shown(chat.get('id'))}"
        if not isinstance(messages, list):
            yield CollectProblem(label, "has no message list")
            return
        chat_id = chat.get("id", 0)
        if type(chat_id) is not int:
            yield CollectProblem(label, f"the chat id is {_kind(chat_id)}, not a whole number; "
                                 f"its {len(messages)} messages were skipped")
            return
        if name is not None and (not isinstance(name, str) or _SURROGATE.search(name)):
            kind = "broken text" if isinstance(name, str) else _kind(name)
            yield CollectProblem(label, f"the chat name is {kind}, not text; its messages are archived "
                                 "without a channel name")
            name, label = None, f"chat id {chat_id}"
        info = {"name": name, "type": chat["type"] if isinstance(chat.get("type"), str) else None, "id": chat_id}
        where = f"{label} ({chat_id})" if name is not None else label
        for message in messages:
            yield from self._message(info, where, message)

    def _message(self, chat: dict[str, Any], where: str, message: Any) -> Iterator[ItemRecord | CollectProblem]:
        if not isinstance(message, dict) or "id" not in message:
            yield CollectProblem(where, f"skipped an entry that is not a message ({_kind(message)})")
            return
        fault = message_fault(message)
        if fault:
            yield CollectProblem(f"{where}, message {_shown(message['id'])}", f"skipped: {fault}")
            return
        yield from self._unknown_fields(message)
        yield self._item(chat, message)

    def _unknown_fields(self, message: dict[str, Any]) -> Iterator[CollectProblem]:
        for key in message.keys() - KNOWN_FIELDS - self._unknown_reported:
            self._unknown_reported.add(key)
            yield CollectProblem(f"message {message['id']}", f"unknown field {key[:60]!r} (kept in raw metadata)")

    def _item(self, chat: dict[str, Any], message: dict[str, Any]) -> ItemRecord:
        service = message.get("type") == "service"
        text = flatten_text(message.get("text"))
        if service and not text:
            text = f"[{message.get('action') or 'service'}] {message.get('actor') or ''}".strip()
        return ItemRecord(
            source_kind="tdesktop",
            source_id=f"{chat['id']}/{message['id']}",
            text=text,
            channel=chat["name"],
            posted_at=_utc(message, "date_unixtime", "date"),
            edited_at=_utc(message, "edited_unixtime", "edited"),
            author=message.get("author") or message.get("from") or message.get("actor"),
            forwarded_from=message.get("forwarded_from") or message.get("saved_from"),
            language=self.language,
            kind="service" if service else "post",
            raw={"chat": chat, "message": message},
            media=list(self._media(message)),
        )

    def _media(self, message: dict[str, Any]) -> Iterator[MediaRecord]:
        if message.get("photo") is not None:
            yield self._media_record(message["photo"], "photo", ("image",))
        if message.get("file") is not None:
            role, expect = MEDIA_TYPES.get(message.get("media_type") or "", ("file", ()))
            yield self._media_record(message["file"], role, expect, message.get("file_name"))

    def _media_record(self, ref: str, role: str, expect: tuple[str, ...], name: str | None = None) -> MediaRecord:
        if ref.startswith("(") and ref.endswith(")"):   # "(File not included. Change data exporting settings...)"
            return MediaRecord(role, ref, status=MediaStatus.MISSING, note=ref.strip("()"))
        if "\x00" in ref:
            return MediaRecord(role, ref, status=MediaStatus.REJECTED, note="refused: the path holds a NUL character")
        try:
            candidate = (self.root / ref).resolve()
            if not candidate.is_relative_to(self.root):
                return MediaRecord(role, ref, status=MediaStatus.REJECTED,
                                   note="refused: the path resolves outside the export folder")
            found = candidate.is_file()
        except RuntimeError:   # pathlib's symlink loop
            return MediaRecord(role, ref, status=MediaStatus.REJECTED, note="refused: the path is a symlink loop")
        except OSError as exc:
            return MediaRecord(role, ref, status=MediaStatus.MISSING, note=f"unreadable path ({exc.strerror})")
        if not found:
            return MediaRecord(role, ref, status=MediaStatus.MISSING, note="file not found in the export folder")
        return MediaRecord(role, ref, path=candidate, original_name=name or candidate.name, expect=expect)
