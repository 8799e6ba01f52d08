"""Every post of a sighting's footage, and the family's photo found reposted: as reviewers and
evidence packages show them (read only).

- `footage_posts`: `matching.footage_views.sighting_posts` (the sighting's media, then each media
  attached to it, each with every capture: channel, URL, times, note), each attached post with
  how it was linked: the chain of near-duplicate links (`footage_link`, links a reviewer rejected
  not followed) from it to the post it was attached through, its method (image, video), the
  largest distance along the chain and, for video, the time offset between the two;
- `post_records`: the same as plain records for case.json (no local path: `cases.local_paths.scrub`);
- `repost_leads`: where a family's reference photo was found reposted (a lead, never a sighting),
  with the person's name.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from svidok.cases.local_paths import scrub
from svidok.foundation.archive import Capture
from svidok.foundation.workspace import Workspace
from svidok.matching.footage import MAX_HOPS
from svidok.matching.footage_views import Repost, reference_reposts, sighting_posts


@dataclass(frozen=True)
class PostLink:
    """How an attached post was linked to the sighting's post it was attached through."""

    method: str                  # image, video
    distance: float              # Hamming bits of 64, the largest along the chain (0: the same picture)
    hops: int                    # links in the chain (1: a near-duplicate of that post itself)
    offset_s: float | None       # video: time in the post it was attached through = time here + offset_s
    frames: int | None           # video: fewest windows matched along the chain
    linked_at: str               # when the last link of the chain was made


@dataclass(frozen=True)
class FootagePost:
    """One post (media file) of a sighting's footage, with every capture of it."""

    media_sha256: str
    primary: bool                # the media the sighting was raised on
    via_sha256: str | None       # attached ones: the sighting's post it was attached through
    mime: str | None
    span_start_s: float | None   # where the person is seen in this media (None: the whole media)
    span_end_s: float | None
    score: float
    reasons: list[dict[str, Any]]
    captures: list[Capture] = field(default_factory=list)
    link: PostLink | None = None  # attached ones; None also when no unrejected chain is left


@dataclass(frozen=True)
class RepostLead:
    """A family's reference photo found among archived photos: where it was posted, never a sighting."""

    person_id: int
    person_name: str
    reference_id: int
    media_sha256: str
    distance: int                # Hamming bits of 64 (0: the same picture)
    mirrored: bool
    found_at: str
    captures: list[Capture] = field(default_factory=list)


def footage_posts(ws: Workspace, sighting_id: int) -> list[FootagePost]:
    """The sighting's own media first, then the other posts in the order they were attached."""
    posts = sighting_posts(ws, sighting_id)
    mimes = _mimes(ws, [p.media_sha256 for p in posts])
    return [FootagePost(p.media_sha256, p.primary, p.via_sha256, mimes.get(p.media_sha256), p.span_start_s,
                        p.span_end_s, p.score, p.reasons, p.captures,
                        None if p.primary or p.via_sha256 is None else _link(ws, p.media_sha256, p.via_sha256))
            for p in posts]


def post_records(posts: list[FootagePost]) -> list[dict[str, Any]]:
    """The posts as case.json records: hash, how linked, and each capture's URL, channel and times."""
    out = []
    for p in posts:
        out.append(scrub({
            "media_sha256": p.media_sha256, "primary": p.primary, "via_sha256": p.via_sha256, "mime": p.mime,
            "span_s": [p.span_start_s, p.span_end_s] if p.span_start_s is not None else None, "score": p.score,
            "link": asdict(p.link) if p.link else None,
            "captures": [{"item_id": c.item_id, "source_kind": c.source_kind, "source_id": c.source_id,
                          "channel": c.channel, "url": c.url, "posted_at": c.posted_at,
                          "collected_at": c.collected_at, "text": c.note, "deleted_at_source": c.deleted_at}
                         for c in p.captures]}))
    return out


def repost_leads(ws: Workspace, person_id: int | None = None) -> list[RepostLead]:
    """Reposts of one person's reference photos (or everyone's), with the person's name."""
    reposts: list[Repost] = reference_reposts(ws, person_id)
    ids = sorted({r.person_id for r in reposts})
    names = dict(ws.conn.execute(f"SELECT id, name FROM person WHERE id IN ({','.join('?' * len(ids))})",
                                 tuple(ids)).fetchall()) if ids else {}
    return [RepostLead(r.person_id, names.get(r.person_id, ""), r.reference_id, r.media_sha256, r.distance,
                       r.mirrored, r.found_at, r.captures) for r in reposts]


def _mimes(ws: Workspace, media: list[str]) -> dict[str, str]:
    if not media:
        return {}
    return dict(ws.conn.execute(f"SELECT sha256, mime FROM media WHERE sha256 IN ({','.join('?' * len(media))})",
                                tuple(media)).fetchall())


LinkRow = tuple[str, str, str, float, float | None, int | None, str]   # media, other, method, distance, ...


def _link(ws: Workspace, media: str, target: str) -> PostLink | None:
    """The shortest chain of followed links from `media` to `target`, summed up; None when there is none."""
    chain = _chain(ws, media, target)
    if not chain:
        return None
    offset: float | None = 0.0
    for step_from, row in chain:
        if offset is None or row[4] is None:
            offset = None
        else:                                 # footage_link: time in other = time in media + offset_s
            offset += row[4] if row[0] == step_from else -row[4]
    frames = [row[5] for _, row in chain if row[5] is not None]
    return PostLink(chain[0][1][2], max(row[3] for _, row in chain), len(chain), offset,
                    min(frames) if frames else None, max(row[6] for _, row in chain))


def _chain(ws: Workspace, media: str, target: str) -> list[tuple[str, LinkRow]]:
    """[(the media a step leaves from, its link row)] from `media` to `target`, breadth first."""
    came: dict[str, tuple[str, LinkRow] | None] = {media: None}
    queue = deque([(media, 0)])
    while queue:
        node, hops = queue.popleft()
        if node == target:
            chain = []
            while came[node] is not None:
                step_from, row = came[node]           # type: ignore[misc]
                chain.append((step_from, row))
                node = step_from
            return chain[::-1]
        if hops >= MAX_HOPS:
            continue
        for row in ws.conn.execute(
                "SELECT media_sha256, other_sha256, method, distance, offset_s, frames, linked_at FROM footage_link"
                " WHERE rejected_at IS NULL AND (media_sha256 = ? OR other_sha256 = ?)"
                " ORDER BY distance, media_sha256, other_sha256", (node, node)).fetchall():
            other = row[1] if row[0] == node else row[0]
            if other not in came:
                came[other] = (node, tuple(row))      # type: ignore[assignment]
                queue.append((other, hops + 1))
    return []
