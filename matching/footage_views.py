"""What reviewers are shown of footage groups and reposted family photos (read only).

- `sighting_posts`: every post of a sighting's footage: the media it was raised on and each
  media attached to it (`sighting_media`), each with every capture of it (channel, URL, posted
  and collected times, note: `foundation.archive.captures`) and where the person is seen there;
- `reference_reposts`: where a family's reference photo was found reposted in the archive
  (a lead: who posted it, when), never a sighting;
- `footage_posts`: every post of the footage group a media file belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from svidok.foundation.archive import Capture, captures
from svidok.matching.footage import footage_of

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace


@dataclass(frozen=True)
class Post:
    """One media file of a sighting's footage, with every capture of it."""

    media_sha256: str
    primary: bool                        # the media the sighting was raised on
    via_sha256: str | None               # attached ones: the post of the sighting it was linked through
    span_start_s: float | None           # where the person is seen in this media (None: whole media)
    span_end_s: float | None
    score: float
    reasons: list[dict[str, Any]]
    captures: list[Capture] = field(default_factory=list)


@dataclass(frozen=True)
class Repost:
    """A family's reference photo found among archived photos."""

    reference_id: int
    person_id: int
    media_sha256: str
    distance: int                        # Hamming bits of 64 (0: the same picture)
    mirrored: bool
    found_at: str
    captures: list[Capture] = field(default_factory=list)


def sighting_posts(ws: "Workspace", sighting_id: int) -> list[Post]:
    """The sighting's own media first, then the other posts in the order they were attached."""
    row = ws.conn.execute("SELECT media_sha256, span_start_s, span_end_s, score, reasons FROM sighting WHERE id = ?",
                          (sighting_id,)).fetchone()
    if row is None:
        return []
    posts = [Post(row[0], True, None, row[1], row[2], row[3], json.loads(row[4]), captures(ws, row[0]))]
    for media, via, start, end, score, reasons in ws.conn.execute(
            "SELECT media_sha256, via_sha256, span_start_s, span_end_s, score, reasons FROM sighting_media"
            " WHERE sighting_id = ? ORDER BY attached_at, media_sha256", (sighting_id,)):
        posts.append(Post(media, False, via, start, end, score, json.loads(reasons), captures(ws, media)))
    return posts


def reference_reposts(ws: "Workspace", person_id: int | None = None) -> list[Repost]:
    """Reposts of the reference photos of one person (or of everyone)."""
    rows = ws.conn.execute(
        "SELECT rr.reference_id, r.person_id, rr.media_sha256, rr.distance, rr.mirrored, rr.found_at"
        " FROM reference_repost rr JOIN reference r ON r.id = rr.reference_id WHERE CAST(? AS INTEGER) IS NULL"
        " OR r.person_id = ?"
        " ORDER BY r.person_id, rr.reference_id, rr.found_at, rr.media_sha256", (person_id, person_id)).fetchall()
    return [Repost(r[0], r[1], r[2], r[3], bool(r[4]), r[5], captures(ws, r[2])) for r in rows]


def footage_posts(ws: "Workspace", media_sha256: str) -> dict[str, list[Capture]]:
    """{media: its captures} for every media of this media's footage group, oldest first."""
    return {media: captures(ws, media) for media in footage_of(ws, media_sha256)}
