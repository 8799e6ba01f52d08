"""Revoking a consent: every trace of its reference photos that Svidok can reach.

In one transaction, under the write lock:
1. the consent's reference rows, and the photo files only they use (a photo also enrolled
   under another consent stays);
2. the evidence packages that held those photos, found by `exports` (the application passes
   `cases.export.packages_holding`; this stage may not import cases): the copies under
   <workspace>/exports, and the exports already delivered to a named recipient, which Svidok
   cannot recall: the report names them, so that someone asks each recipient to delete it;
3. unreviewed sightings resting on the references are withdrawn, confirmed ones marked (kept
   as evidence);
4. the rows are deleted (with `secure_delete`), the consent is marked revoked, one audit
   entry records exactly the counts and packages the command reports, and the copies in
   exports are deleted (each checked deletable first; a failure rolls everything back).
After the commit: 5. the stored photo files are deleted, the reference caches dropped and the
WAL truncated. A crash before step 5 leaves orphan photo files that the next
`sweep_orphan_references` deletes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svidok.foundation.clock import utc_now
from svidok.matching.persons import UNREVIEWED, PersonError, sweep_orphan_references

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace


@dataclass(frozen=True)
class ExportedPackage:
    """An evidence package that held some of the photos being revoked."""

    bag: str                                  # the bag folder, as the export recorded it
    recipient: str | None                     # the named recipient it was delivered to
    case_id: int | None
    exported_at: str | None
    photos: tuple[str, ...]                   # SHA-256 of the revoked photos it held
    local_copies: tuple[str, ...] = ()        # copies under <workspace>/exports, relative to the workspace

    def delivery(self) -> dict[str, Any]:
        return {"recipient": self.recipient, "case_id": self.case_id, "exported_at": self.exported_at,
                "bag": self.bag, "photos": list(self.photos)}


ExportFinder = Callable[["Workspace", set[str]], list[ExportedPackage]]


@dataclass(frozen=True)
class RevocationReport:
    references: int = 0
    files: int = 0                            # photo files deleted: stored ones and copies in exports
    embeddings: int = 0
    sightings_withdrawn: int = 0
    confirmed_marked: int = 0
    packages: tuple[ExportedPackage, ...] = field(default=(), compare=False)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "packages"}

    @property
    def exports_touched(self) -> list[dict[str, Any]]:
        """Export folders under the workspace whose copies of the photos were deleted."""
        return [{"bag": p.bag, "removed": list(p.local_copies)} for p in self.packages if p.local_copies]

    @property
    def already_delivered(self) -> list[dict[str, Any]]:
        """Exports that took the photos to a recipient: out of Svidok's reach."""
        return [p.delivery() for p in self.packages if p.recipient]

    def as_dict(self) -> dict[str, Any]:
        return {"removed": self.counts(), "exports_touched": self.exports_touched,
                "already_delivered": self.already_delivered}


def revoke_consent(ws: "Workspace", consent_id: int, actor: str = "cli",
                   exports: ExportFinder | None = None) -> RevocationReport:
    """Revoke a consent and remove every trace of its reference photos it can reach (see module doc).
    Without `exports`, evidence packages are not looked at."""
    from svidok.matching import vector_index

    conn = ws.conn
    with ws.transaction():
        person_id = _consent_to_revoke(ws, consent_id)
        refs = [r[0] for r in conn.execute("SELECT id FROM reference WHERE consent_id = ?", (consent_id,))]
        photos = _photos_only_of(ws, consent_id)                                          # 1
        packages = exports(ws, set(photos)) if exports and photos else []                 # 2
        copies = [ws.root / c for p in packages for c in p.local_copies]
        withdrawn, marked = _settle_sightings(ws, refs, consent_id)                       # 3
        conn.execute("DELETE FROM reference WHERE consent_id = ?", (consent_id,))        # 4
        conn.execute("UPDATE consent SET revoked_at = ? WHERE id = ?", (utc_now(), consent_id))
        photo_files = sorted((sha, path.rsplit("/", 1)[-1].split(".", 1)[1]) for sha, path in photos.items()
                             if ws.path(path).is_file())
        report = RevocationReport(len(refs), len(photo_files) + len(copies), len(refs), withdrawn, marked,
                                  tuple(packages))
        ws.audit.append(actor, "consent.revoke", f"consent:{consent_id}",
                        {"person_id": person_id, "reference_ids": refs, **report.counts(),
                         "exports_touched": report.exports_touched, "already_delivered": report.already_delivered})
        _delete_copies(ws, copies)
    for sha, ext in photo_files:                                                          # 5
        ws.references.remove(sha, ext)
    sweep_orphan_references(ws)
    vector_index.drop_reference_caches(ws)
    conn.erase_deleted(["reference", "sighting", "consent"])
    return report


def _consent_to_revoke(ws: "Workspace", consent_id: int) -> int:
    """The consent's person; refuses an unknown or already revoked consent."""
    row = ws.conn.execute("SELECT person_id, revoked_at FROM consent WHERE id = ?", (consent_id,)).fetchone()
    if row is None:
        raise PersonError(f"no consent with id {consent_id}")
    if row[1] is not None:
        raise PersonError(f"consent {consent_id} was already revoked on {row[1]}")
    return int(row[0])


def _photos_only_of(ws: "Workspace", consent_id: int) -> dict[str, str]:
    """{sha256: stored path} of the consent's reference photos that no other consent's reference uses."""
    rows = ws.conn.execute(
        "SELECT DISTINCT photo_sha256, photo_path FROM reference r WHERE consent_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM reference o WHERE o.photo_sha256 = r.photo_sha256 AND o.consent_id != r.consent_id)",
        (consent_id,))
    return dict(rows.fetchall())


def _delete_copies(ws: "Workspace", copies: list[Path]) -> None:
    """Delete copies in <workspace>/exports; refuses (so the caller rolls back) unless all can go."""
    exports = (ws.root / "exports").resolve()
    for path in copies:
        if not path.resolve().is_relative_to(exports):
            raise PersonError(f"refusing to delete {path}: not under {exports}")
        if path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
            raise PersonError(f"cannot delete {path} (no write permission on its folder); nothing was revoked")
    for path in copies:
        path.unlink(missing_ok=True)


def _settle_sightings(ws: "Workspace", reference_ids: list[int], consent_id: int) -> tuple[int, int]:
    """Withdraw unreviewed sightings resting on these references; mark confirmed ones."""
    if not reference_ids:
        return 0, 0
    marks = ",".join("?" * len(reference_ids))
    rests_on = (f"EXISTS (SELECT 1 FROM {ws.db.json_values('sighting.reference_ids')}"
                f" WHERE CAST(value AS INTEGER) IN ({marks}))")
    note = f"reference consent {consent_id} revoked on {utc_now()[:10]}; its reference photos were deleted"
    now = utc_now()
    withdrawn = ws.conn.execute(
        f"UPDATE sighting SET status = 'withdrawn', evidence_note = ?, updated_at = ?"
        f" WHERE status IN ({','.join('?' * len(UNREVIEWED))}) AND {rests_on}",
        (note, now, *UNREVIEWED, *reference_ids)).rowcount
    marked = ws.conn.execute(
        f"UPDATE sighting SET evidence_note = ?, updated_at = ? WHERE status = 'confirmed' AND {rests_on}",
        (note + "; kept as confirmed evidence", now, *reference_ids)).rowcount
    return withdrawn, marked
