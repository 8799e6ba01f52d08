"""Timestamps: always UTC, ISO 8601, second precision or better."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def to_utc_iso(value: datetime) -> str:
    """A datetime as UTC ISO 8601; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")
