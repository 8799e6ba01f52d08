"""Revoking consent: the cascade, and proof that no biometric trace of the reference remains."""

from __future__ import annotations

import pytest

from svidok.foundation.workspace import Workspace
from tests.matching.conftest import archive_photo, insert_faces

pytestmark = pytest.mark.models


def _all_bytes(root) -> list[tuple[str, bytes]]:  # noqa: ANN001
    return [(str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_revocation_cascade_leaves_no_trace(run_json, person_with_consent, photos, workspace_path) -> None:
    person, consent = person_with_consent
    kept = archive_photo(run_json, photos["archive"])
    other = archive_photo(run_json, photos["two"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, kept, photos["archive"])
        insert_faces(ws, other, photos["two"])
    assert run_json("enroll", str(person), str(photos["reference"]))[0]["status"] == "accepted"
    queue = run_json("sightings", "list")
    assert len(queue) >= 2
    with Workspace.open(workspace_path) as ws:
        ref_id, ref_path, embedding = ws.conn.execute("SELECT id, photo_path, embedding FROM reference").fetchone()
        ws.conn.execute("UPDATE sighting SET status = 'confirmed' WHERE media_sha256 = ?", (other,))
    confirmed = sum(1 for s in queue if s["media_sha256"] == other)

    removed = run_json("consent", "revoke", str(consent))["removed"]
    assert removed == {"references": 1, "files": 1, "embeddings": 1, "sightings_withdrawn": len(queue) - confirmed,
                       "confirmed_marked": confirmed}

    with Workspace.open(workspace_path) as ws:
        assert ws.conn.execute("SELECT count(*) FROM reference").fetchone()[0] == 0
        assert not (ws.root / ref_path).exists()
        statuses = {s.media_sha256: (s.status, s.evidence_note) for s in
                    __import__("svidok.matching.sightings", fromlist=["x"]).list_sightings(ws)}
        assert statuses[kept][0] == "withdrawn"
        assert statuses[other][0] == "confirmed" and "revoked" in statuses[other][1]
        entry = next(e for e in ws.audit.entries() if e["action"] == "consent.revoke")
        assert entry["details"]["reference_ids"] == [ref_id]
    # secure_delete + WAL truncation: gone even before any VACUUM
    assert [n for n, data in _all_bytes(workspace_path) if embedding[:64] in data] == []
    with Workspace.open(workspace_path) as ws:
        ws.conn.execute("VACUUM")
        ws.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    leaks = [name for name, data in _all_bytes(workspace_path) if embedding in data or embedding[:64] in data]
    assert leaks == []
    assert run_json("match")["new_sightings"] == 0               # nothing left to search with
    assert run_json("person", "list")[0]["searchable"] is False


def test_orphan_reference_file_is_swept(run_json, person_with_consent, photos, workspace_path) -> None:
    """A crash between the revocation's commit and the file deletion leaves a file no row
    points at; the next enroll/match deletes it."""
    run_json("match")
    with Workspace.open(workspace_path) as ws:
        stored = ws.references.put_file(photos["reference"])
        assert (ws.root / stored.relpath).exists()
    run_json("match")
    assert not (workspace_path / stored.relpath).exists()
