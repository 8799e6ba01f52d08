"""`svidok verify`: a demo-like archive built through Svidok's own functions verifies; each way of
changing it behind Svidok's back is reported — a decision row edited, a sighting's status set, a
stored file deleted or one byte of it flipped, the newest audit entries deleted (triggers
dropped), an audit entry edited — each by the check made for it (the chain check alone passes a
log cut back at its end; the row checks alone pass an edited entry whose row was edited alike)."""

from __future__ import annotations

import json

import pytest

import svidok.cases.archive_claims
import svidok.cases.archive_rows
from svidok.cases.archive_verify import verify_archive
from svidok.cases.decisions import record_decision
from svidok.foundation.workspace import DB_NAME
from tests.cases.archive_seed import Archive, build_archive, problems_of, stored_path
from tests.cases.tamper import drop_audit_triggers, flip_byte, raw_sql


@pytest.fixture
def archive(fresh_workspace, tmp_path) -> Archive:
    return build_archive(fresh_workspace, tmp_path)


def _db(arc: Archive):
    return arc.ws.root / DB_NAME


def _decision_id(arc: Archive, sighting: str, reviewer: str) -> int:
    return arc.ws.conn.execute("SELECT id FROM decision WHERE sighting_id = ? AND reviewer_id = ?",
                               (arc.sightings[sighting], arc.users[reviewer])).fetchone()[0]


def _stored_files(arc: Archive) -> int:
    return sum(1 for store in ("media", "derived", "references") for p in (arc.ws.root / store).rglob("*")
               if p.is_file() and "cache" not in p.parts)


def test_a_clean_archive_verifies(archive, run_cli):
    ws, s = archive.ws, archive.sightings
    statuses = dict(ws.conn.execute("SELECT key, status FROM sighting").fetchall())
    assert statuses == {"confirmed": "confirmed", "conflict": "rejected", "pending": "pending", "withdrawn": "withdrawn"}
    assert ws.conn.execute("SELECT COUNT(*) FROM reference").fetchone()[0] == 1           # the revoked one is gone
    report = verify_archive(ws)
    assert report.ok, report.problems
    assert report.files_checked == _stored_files(archive) == 4 + 2 + 1     # media, crops, the consented photo
    assert report.rows_checked > 20 and report.audit_entries == ws.audit.verify().entries
    result = run_cli("verify", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["ok"] is True and data["problems"] == []
    assert data["files_checked"] == report.files_checked and s["confirmed"]


def test_paging_sees_every_row(archive, monkeypatch):
    whole = verify_archive(archive.ws)
    for module in (svidok.cases.archive_rows, svidok.cases.archive_claims):
        monkeypatch.setattr(module, "PAGE", 2)
    paged = verify_archive(archive.ws)
    assert paged.ok, paged.problems
    assert paged.rows_checked == whole.rows_checked


def test_a_decision_edited_in_the_database_is_reported(archive, run_cli):
    decision = _decision_id(archive, "conflict", "rev2")
    raw_sql(_db(archive), ("UPDATE decision SET verdict = 'confirm', observation = 'fine' WHERE id = ?", (decision,)))
    [changed] = problems_of(verify_archive(archive.ws), "row-changed")
    assert changed.startswith(f"decision {decision}:")
    assert "verdict is 'confirm' in the database but 'reject' in audit entry" in changed
    assert "observation is 'fine' in the database but 'different ears'" in changed
    result = run_cli("verify", "--json")
    assert result.exit_code == 1 and not json.loads(result.stdout)["ok"]


def test_a_decision_added_in_the_database_is_reported(archive):
    raw_sql(_db(archive), ("INSERT INTO decision (sighting_id, reviewer_id, verdict, at) VALUES (?, ?, 'confirm', ?)",
                           (archive.sightings["pending"], archive.users["rev2"], "2024-06-01T00:00:00")))
    [unaudited] = problems_of(verify_archive(archive.ws), "row-unaudited")
    assert unaudited.startswith("decision ") and "no audit entry" in unaudited


@pytest.mark.parametrize(("key", "status", "kind", "says"), [
    ("pending", "confirmed", "row-changed", "is confirmed in the database but pending in audit entry"),
    ("withdrawn", "confirmed", "row-unaudited", "is confirmed, but no audit entry records a decision"),
    ("confirmed", "pending", "row-changed", "is pending in the database, but audit entry"),
    ("conflict", "confirmed", "row-changed", "is confirmed in the database but rejected in audit entry"),
])
def test_a_sighting_status_set_in_the_database_is_reported(archive, key, status, kind, says):
    sid = archive.sightings[key]
    raw_sql(_db(archive), ("UPDATE sighting SET status = ? WHERE id = ?", (status, sid)))
    report = verify_archive(archive.ws)
    assert [p.kind for p in report.problems] == [kind]
    assert report.problems[0].what.startswith(f"sighting {sid} ") and says in report.problems[0].what


def test_a_deleted_stored_file_is_reported(archive):
    video = stored_path(archive.ws, "media", archive.media["video"])
    crop = stored_path(archive.ws, "artifact", archive.crops[0])
    video.unlink()
    crop.unlink()
    report = verify_archive(archive.ws)
    missing = problems_of(report, "file-missing")
    assert [p.kind for p in report.problems] == ["file-missing", "file-missing"]
    assert any(m.startswith(str(video.relative_to(archive.ws.root))) for m in missing)
    assert any(m.startswith(str(crop.relative_to(archive.ws.root))) for m in missing)
    assert report.files_checked == _stored_files(archive)


def test_a_flipped_byte_in_a_stored_file_is_reported(archive):
    photo = stored_path(archive.ws, "media", archive.media["image"])
    reference = stored_path(archive.ws, "reference", archive.ws.conn.execute(
        "SELECT photo_sha256 FROM reference").fetchone()[0])
    for path in (photo, reference):
        flip_byte(path)
    changed = problems_of(verify_archive(archive.ws), "file-changed")
    assert len(changed) == 2
    for path in (photo, reference):
        assert any(c.startswith(str(path.relative_to(archive.ws.root))) and "bytes were changed" in c
                   for c in changed)


def test_the_newest_audit_entries_deleted_are_reported(archive):
    sid = archive.sightings["pending"]
    record_decision(archive.ws, sid, archive.user("rev2"), "reject", {}, "not him either")   # -> rejected
    assert archive.ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sid,)).fetchone()[0] == "rejected"
    drop_audit_triggers(_db(archive))
    raw_sql(_db(archive), ("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)", ()))
    report = verify_archive(archive.ws)
    assert not problems_of(report, "audit-chain")              # a shorter chain is still a valid chain
    assert any(u.startswith("decision ") for u in problems_of(report, "row-unaudited"))
    assert any(f"sighting {sid} is rejected in the database but pending" in c
               for c in problems_of(report, "row-changed"))


def test_audit_entries_deleted_back_below_an_export_are_reported(archive):
    begin = archive.ws.conn.execute("SELECT MAX(seq) FROM audit WHERE action = 'case.export.begin'").fetchone()[0]
    drop_audit_triggers(_db(archive))
    raw_sql(_db(archive), ("DELETE FROM audit WHERE seq >= ?", (begin,)))
    report = verify_archive(archive.ws)
    assert [p.kind for p in report.problems] == ["audit-tip"]   # no row rests on the export's own entries
    assert report.problems[0].what.startswith(f"exports/{archive.package.bag.name} was made at audit entry {begin}")


def test_an_edited_audit_entry_is_reported(archive):
    decision = _decision_id(archive, "confirmed", "rev1")
    seq, details = archive.ws.conn.execute("SELECT seq, details FROM audit WHERE action = 'decision.record'"
                                           " ORDER BY seq LIMIT 1").fetchone()
    edited = json.loads(details) | {"observation": "no scar"}
    drop_audit_triggers(_db(archive))
    raw_sql(_db(archive), ("UPDATE audit SET details = ? WHERE seq = ?", (json.dumps(edited, sort_keys=True), seq)),
            ("UPDATE decision SET observation = 'no scar' WHERE id = ?", (decision,)))
    report = verify_archive(archive.ws)
    assert [p.kind for p in report.problems] == ["audit-chain"]     # the row agrees with its (edited) entry
    assert report.problems[0].what == f"audit entry {seq}: content was changed after it was written"


@pytest.mark.parametrize(("sql", "kind", "says"), [
    ("UPDATE app_user SET role = 'admin' WHERE name = 'rev1'", "row-changed",
     "role is 'admin' in the database but 'reviewer'"),
    ("UPDATE consent SET revoked_at = NULL WHERE revoked_at IS NOT NULL", "row-changed", "is active in the database"),
    ("UPDATE consent SET revoked_at = '2024-07-01' WHERE revoked_at IS NULL", "row-unaudited",
     "no audit entry records its revocation"),
    (("UPDATE consent SET scopes = '[\"court\", \"identification\", \"share-icrc\", \"share-ombudsman\"]'"
      " WHERE scopes LIKE '%court%'"), "row-changed", "scopes is"),
    ("UPDATE person SET name = 'Інша людина'", "row-changed", "name is 'Інша людина' in the database"),
    ('UPDATE "case" SET notes = \'[]\'', "row-changed", "has 0 note(s) in the database but 1"),
    ('UPDATE "case" SET person_id = 99', "row-changed", "person is 99 in the database"),
    (("INSERT INTO case_sighting (case_id, sighting_id, attached_at) SELECT id, (SELECT id FROM sighting WHERE"
      " key = 'pending'), '2024-07-01' FROM \"case\""), "row-unaudited", "attachment of sighting"),
    ("DELETE FROM case_sighting", "row-missing", "attachment of sighting"),
    ("UPDATE family_contact SET channel = 'letter'", "row-changed", "channel is 'letter' in the database"),
    ("DELETE FROM family_contact", "row-missing", "the status step of audit entry"),
    ("DELETE FROM reference", "row-missing", "reference "),
])
def test_other_audited_rows_changed_in_the_database_are_reported(archive, sql, kind, says):
    raw_sql(_db(archive), ("PRAGMA foreign_keys = OFF", ()), (sql, ()))
    report = verify_archive(archive.ws)
    assert any(p.kind == kind and says in p.what for p in report.problems), report.problems
