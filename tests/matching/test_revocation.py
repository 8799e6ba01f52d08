"""Revoking consent: the cascade, and proof that no biometric trace of the reference remains."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.foundation.workspace import Workspace
from tests.factories import evidence
from tests.matching.conftest import archive_photo, insert_faces

pytestmark = pytest.mark.models


def _all_bytes(root) -> list[tuple[str, bytes]]:  # noqa: ANN001
    return [(str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def _database_files(workspace_path: Path) -> list[tuple[str, bytes]]:
    """Every file of the workspace, and on PostgreSQL the files of its database on the server."""
    files = _all_bytes(workspace_path)
    with Workspace.open(workspace_path) as ws:
        if ws.conn.backend == "postgresql":
            ws.conn.execute("CHECKPOINT")
            data = Path(ws.conn.execute("SHOW data_directory").scalar_one())
            oid = ws.conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").scalar_one()
            files += _all_bytes(data / "base" / str(oid))
    return files


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
        assert {k: entry["details"][k] for k in removed} == removed          # audited = reported
    # SQLite: secure_delete + WAL truncation, gone even before any VACUUM; PostgreSQL: VACUUM FULL
    # rewrote the tables (the server's write-ahead log keeps old pages until it is recycled)
    assert [n for n, data in _database_files(workspace_path) if embedding[:64] in data] == []
    with Workspace.open(workspace_path) as ws:
        if ws.conn.backend == "sqlite":
            ws.conn.execute("VACUUM")
            ws.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    leaks = [name for name, data in _database_files(workspace_path) if embedding in data or embedding[:64] in data]
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


def _confirm_and_attach(ws: Workspace, person: int) -> int:
    """Two reviewers confirm the person's sighting; it joins the person's case. Returns the case."""
    from svidok.cases.case import attach, open_case
    from svidok.cases.decisions import record_decision
    from svidok.cases.users import add_user, get_user

    sighting = ws.conn.execute("SELECT id FROM sighting WHERE person_id = ?", (person,)).fetchone()[0]
    for name in ("rev1", "rev2"):
        user = get_user(ws, add_user(ws, name, "reviewer", "a long enough passphrase"))
        record_decision(ws, sighting, user, "confirm", **evidence())
    case, _ = open_case(ws, person, None, "officer")
    attach(ws, case, sighting, None, "officer")
    return case


def test_revocation_reaches_exported_copies_and_names_deliveries(run_json, person_with_consent, photos,
                                                                 workspace_path, tmp_path) -> None:
    person, consent = person_with_consent
    media = archive_photo(run_json, photos["archive"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, media, photos["archive"])
    run_json("enroll", str(person), str(photos["reference"]))
    with Workspace.open(workspace_path) as ws:
        case = _confirm_and_attach(ws, person)
        photo_sha = ws.conn.execute("SELECT photo_sha256 FROM reference").fetchone()[0]
    inside = Path(run_json("case", "export", str(case), "--recipient", "court")["bag"])
    outside = Path(run_json("case", "export", str(case), "--recipient", "prosecutor", "--out",
                            str(tmp_path / "usb"))["bag"])
    copy_inside, copy_outside = (next((bag / "data" / "references").glob(f"{photo_sha}.*"))
                                 for bag in (inside, outside))
    assert inside.parent == workspace_path / "exports"

    result = run_json("consent", "revoke", str(consent))
    # the stored photo, and in exports/ its copy, the summary PDF showing it and the package file holding it
    assert result["removed"]["files"] == 4
    assert not copy_inside.exists() and copy_outside.exists()              # outside the workspace: not ours to delete
    rel = lambda path: str(path.relative_to(workspace_path))              # noqa: E731
    assert [(e["bag"], e["removed"]) for e in result["exports_touched"]] == [
        (str(inside), [rel(copy_inside), rel(inside / "data" / "summary.pdf"),
                       rel(inside.with_name(inside.name + ".zip"))])]
    delivered = {(d["recipient"], d["case_id"], d["bag"]) for d in result["already_delivered"]}
    assert delivered == {("court", case, str(inside)), ("prosecutor", case, str(outside))}
    assert all(d["photos"] == [photo_sha] for d in result["already_delivered"])
    with Workspace.open(workspace_path) as ws:
        entry = next(e for e in ws.audit.entries() if e["action"] == "consent.revoke")
    assert {k: entry["details"][k] for k in result["removed"]} == result["removed"]
    assert entry["details"]["already_delivered"] == result["already_delivered"]
    assert entry["details"]["exports_touched"] == result["exports_touched"]
