"""Values read from hostile pages, checked before they reach the archive.

Numbers: a page can say anything (`data-post="x/999999999999999999999999999999"`, a view
counter of 10^40, a year-9999 date, an EXTINF of `inf`). Each number is checked against a
range the archive can hold (SQLite's INTEGER is 64-bit; JSON and the review UI's JavaScript
are exact only to 2^53) and a post or playlist carrying one outside it is a per-item problem.

Media: the bytes a page hands over for a role are sniffed (`svidok.foundation.mime.sniff`,
never the Content-Type header or the file name), and bytes that are not what the role
promises (an HTML page as a "photo") are refused with a clear reason.
"""

from __future__ import annotations

import math

from svidok.foundation.mime import sniff

MAX_MESSAGE_ID = 2**31 - 1      # Telegram message ids are 32-bit
MAX_COUNT = 2**53               # views, sizes, heights: exact in JSON and JavaScript
MAX_DURATION_S = 10**7          # about 115 days: no real video or playlist is longer
MAX_TIMESTAMP = 253402300799    # 9999-12-31T23:59:59Z
SNIFF_BYTES = 4096

# What the bytes of each media role may be (MIME type prefixes); roles not listed are not checked.
EXPECTED_TYPES: dict[str, tuple[str, ...]] = {
    "photo": ("image/",),
    "video_thumbnail": ("image/",),
    "video": ("video/",),
    "round_video": ("video/",),
    "voice": ("audio/",),                                  # OGG Opus sniffs as audio/ogg
    "audio": ("audio/",),
    "sticker": ("image/", "video/", "application/gzip"),     # webp, webm, tgs (gzipped Lottie)
    "link_preview": ("image/", "video/"),
}


class OutOfRange(ValueError):
    """A number read from a page is outside what the archive accepts."""


def bounded(value: int, what: str, high: int, low: int = 0) -> int:
    """`value` when low <= value <= high, else OutOfRange naming `what`."""
    if not low <= value <= high:
        shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
        raise OutOfRange(f"{what} {shown} is out of range ({low}..{high})")
    return value


def parse_id(text: str, what: str, high: int = MAX_MESSAGE_ID) -> int:
    """An id written in ASCII digits, 1..high; OutOfRange (a ValueError) otherwise."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        raise OutOfRange(f"{what} {text[:40]!r} is not a number")
    if len(text) > len(str(high)):
        raise OutOfRange(f"{what} {text[:37]}{'...' if len(text) > 37 else ''} is out of range (1..{high})")
    return bounded(int(text), what, high, 1)


def number_or_none(value: object, high: float, low: float = 0) -> int | float | None:
    """A metadata number (views, duration, height) when finite and within range, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if low <= value <= high else None


def content_refusal(role: str, head: bytes) -> str | None:
    """Why bytes starting with `head` are not acceptable as `role`, or None when they are."""
    allowed = EXPECTED_TYPES.get(role)
    if allowed is None:
        return None
    mime, _ = sniff(head[:SNIFF_BYTES])
    if mime.startswith(allowed):
        return None
    wanted = " or ".join(a.rstrip("/") + ("/*" if a.endswith("/") else "") for a in allowed)
    return f"refused: the {role} is {mime}, not {wanted}"


def expected_majors(role: str) -> tuple[str, ...]:
    """MIME major types the archive's store accepts for `role` (`MediaRecord.expect`; () = any)."""
    allowed = EXPECTED_TYPES.get(role, ())
    if not allowed or not all(a.endswith("/") for a in allowed):
        return ()
    return tuple(a.rstrip("/") for a in allowed)
