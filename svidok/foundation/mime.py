"""MIME type from the bytes, never from the file name."""

from __future__ import annotations

import filetype

# Extensions we prefer for common types (filetype's own choice is used otherwise).
_PREFERRED_EXT = {"image/jpeg": "jpg", "video/quicktime": "mov", "audio/mpeg": "mp3"}
_TEXT_EXT = {"html", "htm", "json", "txt", "vtt", "srt", "m3u8", "csv", "xml"}


def sniff(head: bytes, ext_hint: str = "") -> tuple[str, str]:
    """Return (mime, extension) for a file whose first bytes are `head`.

    Unknown binary content is `application/octet-stream` with extension `bin`; text that
    decodes as UTF-8 is `text/plain` (or `text/html` when it looks like HTML).
    """
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime, _PREFERRED_EXT.get(kind.mime, kind.extension)
    stripped = head.lstrip()[:512].lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped:
        return "text/html", "html"
    if stripped.startswith(b"#extm3u"):
        return "application/vnd.apple.mpegurl", "m3u8"
    if stripped.startswith(b"webvtt"):
        return "text/vtt", "vtt"
    if head[:4] == b"OggS":
        return "audio/ogg", "ogg"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character may be cut at the end of the sniffed window
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream", "bin"
    hint = ext_hint.lower()
    if stripped.startswith((b"{", b"[")):
        return "application/json", "json"
    return "text/plain", hint if hint in _TEXT_EXT else "txt"


def is_visual_or_audio(mime: str) -> bool:
    """Photos, videos and audio: what the analyzers can work on."""
    return mime.split("/")[0] in {"image", "video", "audio"}
