"""The archive: items (posts, pages, files) with their media, stored idempotently.

Collectors describe what they found as `ItemRecord`s and hand them to `Archive.save_item`.
Order of work for one item (crash-safe at every step):
1. copy each media file into the content store (temp file, hash, fsync, rename);
2. in one transaction: the item row (or a new version of it when its text or metadata
   changed), the media rows, the item-media links and an audit entry;
A crash before step 2 commits leaves only orphan files, which the rerun finds and links.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from svidok.foundation.clock import utc_now
from svidok.foundation.store import StoredFile, StoreError
from svidok.foundation.workspace import Workspace


class MediaStatus(StrEnum):
    STORED = "stored"
    MISSING = "missing"                 # referenced but the bytes were not provided
    NOT_IN_PREVIEW = "not-in-preview"   # the source page shows it but exposes no URL
    REJECTED = "rejected"               # bytes were provided but refused (reason in note)


class SaveStatus(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    UPDATED = "updated"                 # a new version of a known item (edit)


@dataclass
class MediaRecord:
    """One attachment of an item, as a collector found it."""

    role: str                            # photo, video, round_video, voice, audio, file, sticker, screenshot, html
    source_ref: str = ""                 # relative path in an export, or URL
    path: Path | None = None             # local bytes to archive, when available
    chunks: Iterable[bytes] | None = None  # or streamed bytes (downloads)
    original_name: str | None = None
    status: MediaStatus = MediaStatus.STORED
    note: str | None = None
    expect: tuple[str, ...] = ()         # acceptable MIME major types; other content is rejected


@dataclass
class ItemRecord:
    """One post, page or file, as a collector found it."""

    source_kind: str
    source_id: str
    text: str = ""
    channel: str | None = None
    url: str | None = None
    posted_at: str | None = None
    edited_at: str | None = None
    author: str | None = None
    forwarded_from: str | None = None
    views: int | None = None
    language: str | None = None
    kind: str = "post"
    raw: dict[str, Any] = field(default_factory=dict)
    media: list[MediaRecord] = field(default_factory=list)


@dataclass(frozen=True)
class MediaOutcome:
    position: int
    role: str
    status: MediaStatus
    sha256: str | None = None
    new_bytes: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class SaveResult:
    item_id: int
    status: SaveStatus
    media: list[MediaOutcome]


StoredMedia = tuple[MediaRecord, StoredFile | None, str | None]   # a medium, its stored file or why not


@dataclass(frozen=True)
class Capture:
    """One capture of a media file: the item (post, page, saved file) it was archived from, with
    that item's own URL, times and note. The same bytes from several sources are one media row
    with several captures."""

    item_id: int
    media_sha256: str
    source_kind: str
    source_id: str
    channel: str | None
    url: str | None
    posted_at: str | None
    collected_at: str
    note: str                            # the item's text: a post's caption, a saved file's note
    source_ref: str | None               # the path or URL the bytes came from
    deleted_at: str | None               # noticed deleted at the source


def captures(workspace: Workspace, media_sha256: str) -> list[Capture]:
    """Every capture of one media file, the first collected first."""
    rows = workspace.conn.execute(
        "SELECT i.id, im.media_sha256, i.source_kind, i.source_id, i.channel, i.url, i.posted_at, i.collected_at,"
        " i.text, im.source_ref, i.deleted_at FROM item_media im JOIN item i ON i.id = im.item_id"
        " WHERE im.media_sha256 = ? ORDER BY i.collected_at, i.id, im.position", (media_sha256,)).fetchall()
    seen: set[int] = set()
    return [Capture(*r) for r in rows if not (r[0] in seen or seen.add(r[0]))]


def content_hash(text: str, raw: dict[str, Any]) -> str:
    body = json.dumps([text, raw], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Archive:
    """Writes collected items into a workspace on behalf of one collector."""

    def __init__(self, workspace: Workspace, collector: str, collector_version: str, actor: str = "") -> None:
        self.ws = workspace
        self.collector = collector
        self.collector_version = collector_version
        self.actor = actor or f"collector:{collector}"

    def store_file(self, media: MediaRecord) -> StoredFile:
        """Step 1: bytes into the content store (no database rows yet)."""
        if media.path is not None:
            return self.ws.media.put_file(media.path, self.ws.settings.archive.chunk_bytes, media.expect)
        if media.chunks is not None:
            return self.ws.media.put_stream(media.chunks, Path(media.source_ref).suffix.lstrip("."), media.expect)
        raise StoreError("no bytes given")

    def register_media(self, stored: StoredFile, original_name: str | None) -> bool:
        """Insert the media row if new; returns True when the bytes were not archived before."""
        cursor = self.ws.conn.execute(
            "INSERT INTO media (sha256, size, mime, ext, original_name, first_seen, path)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (stored.sha256, stored.size, stored.mime, stored.ext, original_name, utc_now(), stored.relpath),
        )
        return cursor.rowcount == 1

    def save_item(self, item: ItemRecord) -> SaveResult:
        """Archive one item and its media; idempotent on (source_kind, source_id) and bytes."""
        stored = self.store_media(item)
        with self.ws.transaction():
            return self.save_rows(item, stored)

    def store_media(self, item: ItemRecord) -> list[StoredMedia]:
        """Step 1 for every medium of the item: its bytes into the content store, or why not."""
        stored: list[StoredMedia] = []
        for media in item.media:
            if media.status != MediaStatus.STORED:
                stored.append((media, None, media.note))
                continue
            try:
                stored.append((media, self.store_file(media), None))
            except StoreError as exc:
                stored.append((media, None, str(exc)))
        return stored

    def save_rows(self, item: ItemRecord, stored: list[StoredMedia]) -> SaveResult:
        """Step 2, in the caller's transaction: the item's rows, media links and audit entry."""
        conn = self.ws.conn
        now = utc_now()
        digest = content_hash(item.text, item.raw)
        row = conn.execute(                 # the item, and its newest version's hash, in one round trip
            "SELECT id, (SELECT content_hash FROM item_version v WHERE v.item_id = item.id ORDER BY v.id DESC"
            " LIMIT 1) FROM item WHERE source_kind = ? AND source_id = ?", (item.source_kind, item.source_id)
        ).fetchone()
        raw_json = json.dumps(item.raw, ensure_ascii=False, sort_keys=True, default=str)
        if row is None:
            item_id = conn.execute(
                "INSERT INTO item (source_kind, source_id, channel, url, posted_at, collected_at, text, author,"
                " forwarded_from, views, language, kind, raw, collector, collector_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (item.source_kind, item.source_id, item.channel, item.url, item.posted_at, now, item.text,
                 item.author, item.forwarded_from, item.views, item.language, item.kind, raw_json,
                 self.collector, self.collector_version),
            ).scalar_one()
            self._add_version(item_id, item, raw_json, digest, "seen", now)
            status = SaveStatus.NEW
        else:
            item_id, last_digest = row
            if last_digest == digest:
                status = SaveStatus.DUPLICATE
            else:
                self._add_version(item_id, item, raw_json, digest, "edited", now)
                conn.execute(
                    "UPDATE item SET text = ?, raw = ?, views = COALESCE(?, views), author = COALESCE(?, author)"
                    " WHERE id = ?",
                    (item.text, raw_json, item.views, item.author, item_id),
                )
                status = SaveStatus.UPDATED
        outcomes = [self._link(item_id, pos, media, sf, reason) for pos, (media, sf, reason) in enumerate(stored)]
        if status != SaveStatus.DUPLICATE or any(o.new_bytes for o in outcomes):
            self.ws.audit.append(
                self.actor,
                f"archive.item.{status.value}",
                f"item:{item_id}",
                {
                    "source": f"{item.source_kind}:{item.source_id}",
                    "url": item.url,
                    "media": [o.sha256 for o in outcomes if o.sha256],
                    "collector": f"{self.collector} {self.collector_version}",
                },
            )
        return SaveResult(item_id, status, outcomes)

    def _add_version(self, item_id: int, item: ItemRecord, raw_json: str, digest: str, event: str, now: str) -> None:
        self.ws.conn.execute(
            "INSERT INTO item_version (item_id, seen_at, edited_at, text, raw, content_hash, event)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (item_id, now, item.edited_at, item.text, raw_json, digest, event),
        )

    def _link(self, item_id: int, position: int, media: MediaRecord, stored: StoredFile | None, reason: str | None) -> MediaOutcome:
        conn = self.ws.conn
        if stored is not None:
            new_bytes = self.register_media(stored, media.original_name)
            status, sha = MediaStatus.STORED, stored.sha256
        else:
            new_bytes, sha = False, None
            status = media.status if media.status != MediaStatus.STORED else MediaStatus.REJECTED
        existing = conn.execute(
            "SELECT status, media_sha256 FROM item_media WHERE item_id = ? AND position = ?", (item_id, position)
        ).fetchone()
        if existing is None:
            conn.execute(
                "INSERT INTO item_media (item_id, position, media_sha256, status, role, source_ref, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item_id, position, sha, status.value, media.role, media.source_ref, reason or media.note),
            )
        elif existing[0] != MediaStatus.STORED and status == MediaStatus.STORED:
            conn.execute(
                "UPDATE item_media SET media_sha256 = ?, status = ?, note = NULL WHERE item_id = ? AND position = ?",
                (sha, status.value, item_id, position),
            )
        return MediaOutcome(position, media.role, status, sha, new_bytes, reason)

    def mark_deleted(self, source_kind: str, source_id: str) -> bool:
        """Record that the source no longer shows an item (the archived copy is kept)."""
        conn = self.ws.conn
        row = conn.execute(
            "SELECT id, deleted_at, text, raw FROM item WHERE source_kind = ? AND source_id = ?",
            (source_kind, source_id),
        ).fetchone()
        if row is None or row[1] is not None:
            return False
        now = utc_now()
        conn.execute("UPDATE item SET deleted_at = ? WHERE id = ?", (now, row[0]))
        conn.execute(
            "INSERT INTO item_version (item_id, seen_at, text, raw, content_hash, event) VALUES (?, ?, ?, ?, ?, 'deleted')",
            (row[0], now, row[2], row[3], "deleted"),
        )
        self.ws.audit.append(self.actor, "archive.item.deleted-at-source", f"item:{row[0]}", {"source_id": source_id})
        return True

    def get_checkpoint(self, source_key: str) -> dict[str, Any] | None:
        row = self.ws.conn.execute("SELECT checkpoint FROM source_state WHERE source_key = ?", (source_key,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def set_checkpoint(self, source_key: str, checkpoint: dict[str, Any], status: str, new_items: int,
                       errors: list[str] | None = None) -> None:
        self.ws.conn.execute(
            "INSERT INTO source_state (source_key, checkpoint, last_run_at, last_status, items_total, errors)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(source_key) DO UPDATE SET checkpoint = excluded.checkpoint,"
            " last_run_at = excluded.last_run_at, last_status = excluded.last_status,"
            " items_total = source_state.items_total + ?, errors = excluded.errors",
            (source_key, json.dumps(checkpoint), utc_now(), status, new_items, json.dumps(errors or []), new_items),
        )
