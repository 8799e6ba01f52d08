"""Family photos are not sightings: the families' reference photos found among archived photos.

"Searching for..." channels repost the photo a family gave; archived, it would match its own
reference with a perfect score. Reference photos are fingerprinted like archived photos
(`analyzers.perceptual`, plus their mirror image: reposts are sometimes flipped) and compared
with archived photos by the photo rule (`analyzers.near_duplicates.image_distances`). A match is
recorded in `reference_repost` (a lead for reviewers: which channel posted the photo, when),
that person's pending sightings on the photo are withdrawn, and `run_match` queues no candidate
of that person there (another person's face on it is still matched: a wrong perceptual link
then costs one person one photo, not every search).

The fingerprint lives in the reference row (`reference.phash`) and the repost rows go with the
reference (ON DELETE CASCADE), so a consent revocation removes both. `matching.footage.update_footage`
calls these functions: what to compare is computed first, written in its one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from svidok.analyzers.near_duplicates import IMAGE_MAX_BITS, image_distances
from svidok.analyzers.perceptual import IMAGE_LEVELS, Fingerprint

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

WIDTH = 1 + len(IMAGE_LEVELS)             # hashes per photo fingerprint
BLOCK = 65_536                            # archived photos compared at once
NOTE = "a repost of the family's reference photo {ref} (not a sighting)"
_PERSON = "SELECT person_id FROM reference WHERE id = :r"


@dataclass(frozen=True)
class ReferencePrint:
    """A reference photo's fingerprints: as given, and mirrored (none for a flat photo)."""

    id: int
    versions: np.ndarray                  # (0..2, WIDTH) uint64

    @property
    def blob(self) -> bytes:
        return np.asarray(self.versions, "<u8").tobytes()


@dataclass(frozen=True)
class RepostHit:
    reference_id: int
    media_sha256: str
    distance: int
    mirrored: bool


def fingerprint_references(ws: "Workspace") -> list[ReferencePrint]:
    """Fingerprints of the reference photos not fingerprinted yet (computed, not written)."""
    from svidok.analyzers.base import AnalysisError
    from svidok.analyzers.frames import load_image
    from svidok.analyzers.perceptual import image_fingerprint

    out = []
    for ref_id, path in ws.conn.execute("SELECT id, photo_path FROM reference WHERE phash IS NULL").fetchall():
        try:
            rgb = load_image(ws.path(path))
        except (AnalysisError, OSError):
            continue                      # the photo is gone (revoked meanwhile): nothing to compare
        prints = [image_fingerprint(rgb), image_fingerprint(np.ascontiguousarray(rgb[:, ::-1]))]
        rows = [p.hashes for p in prints if p.informative]
        out.append(ReferencePrint(ref_id, np.array(rows, np.uint64).reshape(-1, WIDTH)))
    return out


def stored_references(ws: "Workspace") -> list[ReferencePrint]:
    rows = ws.conn.execute("SELECT id, phash FROM reference WHERE length(phash) > 0 ORDER BY id").fetchall()
    return [ReferencePrint(r[0], np.frombuffer(r[1], "<u8").astype(np.uint64).reshape(-1, WIDTH)) for r in rows]


def find_reposts(ws: "Workspace", new_photos: Sequence[tuple[str, Fingerprint]],
                 fresh: Sequence[ReferencePrint]) -> list[RepostHit]:
    """New photos x every reference, and new references x every archived photo."""
    from svidok.matching.footage import load_fingerprints

    hits = _compare(stored_references(ws) + list(fresh), new_photos)
    if fresh:
        hits += _compare(fresh, load_fingerprints(ws, kind="image"))
    return sorted(set(hits), key=lambda h: (h.reference_id, h.media_sha256))


def _compare(refs: Sequence[ReferencePrint], photos: Sequence[tuple[str, Fingerprint]]) -> list[RepostHit]:
    photos = [(key, fp) for key, fp in photos if fp.kind == "image" and fp.informative]
    hits = []
    for start in range(0, len(photos), BLOCK):
        block = photos[start:start + BLOCK]
        matrix = np.stack([fp.hashes for _, fp in block])
        for ref in refs:
            for mirrored, hashes in enumerate(ref.versions):
                distance = image_distances(hashes, matrix)
                hits += [RepostHit(ref.id, block[i][0], int(distance[i]), bool(mirrored))
                         for i in np.flatnonzero(distance <= IMAGE_MAX_BITS)]
    best: dict[tuple[int, str], RepostHit] = {}
    for hit in hits:                                              # as given beats mirrored at equal distance
        key = (hit.reference_id, hit.media_sha256)
        if key not in best or (hit.distance, hit.mirrored) < (best[key].distance, best[key].mirrored):
            best[key] = hit
    return list(best.values())


def record_reposts(ws: "Workspace", hits: Sequence[RepostHit], actor: str, now: str) -> tuple[int, int]:
    """In the caller's transaction: repost rows, pending sightings on them withdrawn, one audit entry.
    Returns (new reposts, sightings withdrawn)."""
    new = withdrawn = 0
    for hit in hits:
        new += ws.conn.execute(
            "INSERT INTO reference_repost (reference_id, media_sha256, distance, mirrored, found_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (hit.reference_id, hit.media_sha256, hit.distance, hit.mirrored, now)).rowcount
        args = {"note": NOTE.format(ref=hit.reference_id), "now": now, "m": hit.media_sha256, "r": hit.reference_id}
        withdrawn += ws.conn.execute(
            f"UPDATE sighting SET status = 'withdrawn', evidence_note = :note, updated_at = :now"
            f" WHERE media_sha256 = :m AND status = 'pending' AND person_id = ({_PERSON})", args).rowcount
        ws.conn.execute(f"DELETE FROM sighting_media WHERE media_sha256 = :m AND sighting_id IN (SELECT id FROM"
                        f" sighting WHERE status = 'pending' AND person_id = ({_PERSON}))", args)
    if new or withdrawn:
        ws.audit.append(actor, "match.reference-reposts", "", {
            "reposts": [{"reference_id": h.reference_id, "media_sha256": h.media_sha256, "distance": h.distance,
                         "mirrored": h.mirrored} for h in hits], "new": new, "sightings_withdrawn": withdrawn})
    return new, withdrawn


def reposted_photos(ws: "Workspace") -> set[tuple[str, int]]:
    """(archived photo, person) pairs where the photo is that person's reference photo: never a sighting."""
    return {(r[0], r[1]) for r in ws.conn.execute(
        "SELECT DISTINCT rr.media_sha256, r.person_id FROM reference_repost rr"
        " JOIN reference r ON r.id = rr.reference_id")}
