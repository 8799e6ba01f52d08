"""One footage, many posts: near-duplicate media grouped, reposted family photos marked.

`update_footage` is step 0 of `run_match`; it looks only at what is new since the last run:
1. media files fingerprinted (`media_phash`, by the `perceptual` analyzer) but not yet grouped,
   oldest first, are searched for in a `FingerprintIndex` of those already grouped, each then
   added to it (so two new copies find each other);
2. reference photos not yet fingerprinted are, with their mirror image (`matching.reposts`);
3. the new photos are compared with every reference photo, and the new reference photos with
   every archived photo, by the photo rule: a match is a repost of the family's photo;
4. in one short transaction: a `footage_link` row per near-duplicate (for videos with the offset
   and the stretch that matched), each new file's `footage_member` row (the group of what it
   matched, groups it bridges merged into the oldest, or a group of its own), the references'
   fingerprints, and the reposts (`matching.reposts.record_reposts`: pending sightings on them
   withdrawn, audited).
Computing happens before the transaction: no write lock is held meanwhile.

`aligned_media` follows the links from one media file to every other post of the same footage,
mapping a stretch of time along each link (`matching/upsert.py` attaches candidates with it).
`detach_post` is the reviewers' way out of a wrong link: the post leaves the sighting, the link
is marked rejected and no longer followed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from svidok.analyzers.near_duplicates import PerceptualAnalyzer
from svidok.analyzers.perceptual import Fingerprint
from svidok.foundation.clock import utc_now
from svidok.matching.footage_index import FingerprintIndex, Match

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

LINKER = f"near-duplicates {PerceptualAnalyzer.version}"
SPAN_SLACK_S = 1.0            # a stretch this close to the matched part of a link still maps across it
MAX_HOPS = 6


@dataclass(frozen=True)
class FootageReport:
    grouped: int = 0              # media files given a footage group
    linked: int = 0               # of them, near-duplicates of something archived before
    reposts: int = 0              # reference photos found among archived photos (new)
    withdrawn: int = 0            # pending sightings on them withdrawn


@dataclass(frozen=True)
class Aligned:
    """Another post of the same footage, and the stretch mapped into its time (None: whole media)."""

    media_sha256: str
    start_s: float | None
    end_s: float | None
    hops: int


def load_fingerprints(ws: "Workspace", grouped: bool | None = None,
                      kind: str | None = None) -> list[tuple[str, Fingerprint]]:
    """(media, fingerprint), oldest first: of media already grouped (True), not yet (False), or all (None)."""
    where = {True: "EXISTS", False: "NOT EXISTS", None: "1 = 1 OR EXISTS"}[grouped]
    rows = ws.conn.execute(
        "SELECT p.media_sha256, p.kind, p.hashes, p.times, p.frames FROM media_phash p JOIN media m"
        f" ON m.sha256 = p.media_sha256 WHERE ({where} (SELECT 1 FROM footage_member f WHERE f.media_sha256 ="
        " p.media_sha256)) AND (CAST(? AS TEXT) IS NULL OR p.kind = ?) ORDER BY m.first_seen, m.sha256", (kind, kind))
    return [(r[0], Fingerprint.from_blobs(r[1], r[2], r[3], r[4])) for r in rows]


def update_footage(ws: "Workspace", actor: str = "cli") -> FootageReport:
    """Group new media with their near-duplicates and find reposted family photos (see module doc)."""
    from svidok.matching import reposts

    new = load_fingerprints(ws, grouped=False)
    found = find_links(ws, new)                                                            # 1
    fresh_refs = reposts.fingerprint_references(ws)                                        # 2
    hits = reposts.find_reposts(ws, [(k, fp) for k, fp in new if fp.kind == "image"], fresh_refs)   # 3
    if not (found or fresh_refs or hits):
        return FootageReport()
    now = utc_now()
    with ws.transaction():                                                                 # 4
        for key, matches in found:
            _write_links(ws, key, matches, now)
            _join_group(ws, key, [m.key for m in matches], now)
        ws.conn.executemany("UPDATE reference SET phash = ? WHERE id = ?", [(r.blob, r.id) for r in fresh_refs])
        new_reposts, withdrawn = reposts.record_reposts(ws, hits, actor, now)
    return FootageReport(len(found), sum(1 for _, m in found if m), new_reposts, withdrawn)


def find_links(ws: "Workspace", new: list[tuple[str, Fingerprint]]) -> list[tuple[str, list[Match]]]:
    """Each new media file's near-duplicates among those grouped before and the new ones before it."""
    if not new:
        return []
    index = FingerprintIndex()
    for key, fingerprint in load_fingerprints(ws, grouped=True):
        index.add(key, fingerprint)
    found: list[tuple[str, list[Match]]] = []
    for key, fingerprint in new:
        found.append((key, index.search(fingerprint, exclude=key)))
        index.add(key, fingerprint)
    return found


def _write_links(ws: "Workspace", key: str, matches: list[Match], now: str) -> None:
    for m in matches:
        a = m.alignment
        ws.conn.execute(
            "INSERT INTO footage_link (media_sha256, other_sha256, method, distance, offset_s, start_s,"
            " end_s, frames, linker, linked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (key, m.key, m.method, m.distance, a and a.offset_s, a and a.start_s, a and a.end_s, a and a.frames,
             LINKER, now))


def _join_group(ws: "Workspace", key: str, others: list[str], now: str) -> None:
    """Put the media into the oldest group among what it matched, merging the others into it."""
    groups = sorted({r[0] for r in ws.conn.execute(
        f"SELECT footage_id FROM footage_member WHERE media_sha256 IN ({','.join('?' * len(others))})", others)})
    if groups:
        target = groups[0]
        if len(groups) > 1:
            ws.conn.execute(f"UPDATE footage_member SET footage_id = ? WHERE footage_id IN"
                            f" ({','.join('?' * (len(groups) - 1))})", (target, *groups[1:]))
    else:
        target = ws.conn.execute("SELECT COALESCE(MAX(footage_id), 0) + 1 FROM footage_member").fetchone()[0]
    ws.conn.execute("INSERT INTO footage_member (media_sha256, footage_id, linked_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (media_sha256) DO UPDATE SET footage_id = excluded.footage_id,"
                    " linked_at = excluded.linked_at", (key, target, now))


def aligned_media(ws: "Workspace", media_sha256: str, start: float | None,
                  end: float | None) -> list[Aligned]:
    """Every other post of the same footage reachable along links that cover this stretch."""
    seen, out = {media_sha256}, []
    queue = deque([(media_sha256, start, end, 0)])
    while queue:
        media, lo, hi, hops = queue.popleft()
        if hops >= MAX_HOPS:
            continue
        for other, mapped in _neighbours(ws, media, lo, hi):
            if other not in seen:
                seen.add(other)
                out.append(Aligned(other, *mapped, hops + 1))
                queue.append((other, *mapped, hops + 1))
    return out


def _neighbours(ws: "Workspace", media: str, lo: float | None, hi: float | None):  # noqa: ANN202
    """(other media, (start, end) mapped into its time) for each link of this media covering the stretch."""
    rows = ws.conn.execute(
        "SELECT other_sha256, offset_s, start_s, end_s FROM footage_link WHERE media_sha256 = ? AND rejected_at IS NULL"
        " UNION ALL SELECT media_sha256, -offset_s, start_s + offset_s, end_s + offset_s FROM footage_link"
        " WHERE other_sha256 = ? AND rejected_at IS NULL", (media, media)).fetchall()
    for other, offset, s0, s1 in rows:
        if offset is None or lo is None:                 # a photo, or a stretch covering the whole media
            yield other, (None, None)
            continue
        top = hi if hi is not None else lo
        a, b = max(lo, s0 - SPAN_SLACK_S), min(top, s1 + SPAN_SLACK_S)
        if a <= b:
            yield other, (a + offset, b + offset)


def footage_of(ws: "Workspace", media_sha256: str) -> list[str]:
    """Every media of the footage group this media belongs to (itself included), oldest first."""
    rows = ws.conn.execute(
        "SELECT f.media_sha256 FROM footage_member f JOIN media m ON m.sha256 = f.media_sha256 WHERE f.footage_id ="
        " (SELECT footage_id FROM footage_member WHERE media_sha256 = ?) ORDER BY m.first_seen", (media_sha256,))
    return [r[0] for r in rows] or [media_sha256]


def detach_post(ws: "Workspace", sighting_id: int, media_sha256: str, actor: str, reason: str) -> bool:
    """A reviewer says a post attached to a sighting is not the same footage: it leaves the sighting
    and its links to the sighting's posts are no longer followed (the next match run queues it on
    its own, unless another chain of links leads back).
    Returns False when the media was not attached to that sighting."""
    now = utc_now()
    with ws.transaction():
        row = ws.conn.execute("SELECT via_sha256 FROM sighting_media WHERE sighting_id = ? AND media_sha256 = ?",
                              (sighting_id, media_sha256)).fetchone()
        if row is None:
            return False
        ws.conn.execute("DELETE FROM sighting_media WHERE sighting_id = ? AND media_sha256 = ?",
                        (sighting_id, media_sha256))
        posts = "SELECT media_sha256 FROM sighting WHERE id = :s UNION SELECT media_sha256 FROM sighting_media" \
                " WHERE sighting_id = :s"
        ws.conn.execute(f"UPDATE footage_link SET rejected_at = :now, rejected_by = :actor WHERE rejected_at IS NULL"
                        f" AND ((media_sha256 = :m AND other_sha256 IN ({posts}))"
                        f" OR (other_sha256 = :m AND media_sha256 IN ({posts})))",
                        {"now": now, "actor": actor, "m": media_sha256, "s": sighting_id})
        ws.audit.append(actor, "sighting.detach", f"sighting:{sighting_id}",
                        {"media_sha256": media_sha256, "via_sha256": row[0], "reason": reason.strip()})
    return True
