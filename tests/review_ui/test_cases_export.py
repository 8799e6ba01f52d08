"""Cases and consent-filtered evidence packages, through the CLI and the UI; bags validate
with bagit's own validator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import bagit
import pytest

from svidok.cases.case import CaseError, add_note, attach, open_case, timeline
from svidok.cases.decisions import record_decision
from svidok.cases.users import check_password, get_user


CHECKLIST = {"face_shape": "similar", "hairline": "similar", "eyebrows": "similar", "eyes": "similar",
             "nose": "not-visible", "ears": "similar", "mouth": "similar", "marks": "not-visible"}


def _confirm(seeded, sid):
    for name in ("rev1", "rev2"):
        record_decision(seeded.ws, sid, get_user(seeded.ws, seeded.users[name]), "confirm",
                        CHECKLIST, f"{name}: ear shape matches", revealed=True)


def _payload(bag: Path) -> set[str]:
    return {str(p.relative_to(bag / "data")) for p in (bag / "data").rglob("*") if p.is_file()}


def test_user_add_cli(run_json, run_cli, workspace_path):
    run_json("init")
    made = run_json("user", "add", "olena", "--role", "reviewer", "--password-stdin",
                    input="a long enough passphrase\n")
    assert isinstance(made["id"], int) and "password" not in made
    generated = run_json("user", "add", "taras", "--role", "case-officer")
    assert len(generated["password"]) >= 16
    from svidok.foundation.workspace import Workspace

    with Workspace.open(workspace_path) as ws:
        assert check_password(ws, "taras", generated["password"]).user.role == "case-officer"
        assert check_password(ws, "olena", "a long enough passphrase").user is not None
        assert ws.conn.execute("SELECT password_hash FROM app_user WHERE name='olena'").fetchone()[0] \
            .startswith("$argon2id$")
    duplicate = run_cli("user", "add", "olena", "--role", "admin", "--json")
    assert duplicate.exit_code == 1 and "already exists" in json.loads(duplicate.stdout)["error"]
    short = run_cli("user", "add", "ivan", "--role", "admin", "--password-stdin", "--json", input="short\n")
    assert short.exit_code == 1 and "too short" in short.stdout


def test_only_confirmed_sightings_of_the_person_join_a_case(seeded):
    ws, s = seeded.ws, seeded.sightings
    case_id, created = open_case(ws, seeded.person, None, "officer")
    assert created and open_case(ws, seeded.person, None, "officer") == (case_id, False)
    with pytest.raises(CaseError, match="only confirmed"):
        attach(ws, case_id, s["video"], None, "officer")
    with pytest.raises(CaseError, match="another person"):
        attach(ws, case_id, s["other"], None, "officer")
    _confirm(seeded, s["video"])
    attach(ws, case_id, s["video"], None, "officer")
    add_note(ws, case_id, "ICRC informed by phone", "officer")
    kinds = [(e.kind, e.sighting_id) for e in timeline(ws, case_id)]
    assert ("sighting", s["video"]) in kinds and kinds[0] == ("sighting", s["video"])  # posted 2024, before notes
    assert {k for k, _ in kinds} == {"opened", "note", "sighting"}


def test_cli_export_for_icrc_is_consent_filtered_and_valid(seeded, run_json, tmp_path):
    ws, sid = seeded.ws, seeded.sightings["video"]
    _confirm(seeded, sid)
    case = run_json("case", "open", str(seeded.person))["id"]
    run_json("case", "attach", str(case), str(sid))
    tip_before = ws.audit.verify().tip
    result = run_json("case", "export", str(case), "--recipient", "icrc", "--out", str(tmp_path / "out"))
    bag = Path(result["bag"])
    assert bagit.Bag(str(bag)).is_valid() and bagit.Bag(str(bag)).validate()
    files = _payload(bag)
    assert result["files"] == len(files)
    share_sha, ident_sha = (ws.conn.execute("SELECT photo_sha256 FROM reference WHERE id = ?", (seeded.references[k],))
                            .fetchone()[0] for k in ("share", "ident_only"))
    assert f"media/{seeded.video_sha}.mp4" in files and f"transcripts/{seeded.video_sha}.json" in files
    assert sum(f.startswith("crops/") for f in files) == 2 and sum(f.startswith("frames/") for f in files) == 2
    assert f"references/{share_sha}.jpg" in files and not any(ident_sha in f for f in files)
    assert {"summary.html", "case.json", "provenance.json", "custody.json"} <= files
    provenance = {p["file"]: p for p in json.loads((bag / "data/provenance.json").read_text())}
    original = provenance[f"data/media/{seeded.video_sha}.mp4"]
    assert original["sha256_at_capture"] == seeded.video_sha
    assert original["captured_from"][0]["source_url"] == "https://t.me/rybar/123"
    assert original["captured_from"][0]["collector"] == "collectors.telethon_channel"
    custody = json.loads((bag / "data/custody.json").read_text())
    tip = custody["tip_entry"]                         # the export's own begin entry, right after tip_before
    assert custody["audit_verify"]["ok"] and tip["prev_hash"] == tip_before and tip["action"] == "case.export.begin"
    assert custody["audit_verify"]["tip"] == tip["hash"]
    assert {"decision.record", "case.open", "case.attach"} <= {e["action"] for e in custody["entries"]}
    doc = json.loads((bag / "data/case.json").read_text())
    assert [d["observation"] for d in doc["sightings"][0]["decisions"]] == ["rev1: ear shape matches",
                                                                            "rev2: ear shape matches"]
    assert "Svidok-Audit-Tip: " + custody["audit_verify"]["tip"] in (bag / "bag-info.txt").read_text()
    summary = (bag / "data/summary.html").read_text()
    assert "Петренко Олександр Іванович" in summary and "rev1: ear shape matches" in summary
    assert ws.audit.entries(limit=1)[0]["action"] == "case.export"


def test_identification_only_recipient_gets_no_reference_photos(seeded, tmp_path):
    from svidok.cases.export import export_case

    _confirm(seeded, seeded.sightings["video"])
    case, _ = open_case(seeded.ws, seeded.person, None, "officer")
    attach(seeded.ws, case, seeded.sightings["video"], None, "officer")
    result = export_case(seeded.ws, case, "internal", tmp_path, "officer")
    assert result.references == 0 and not any(f.startswith("references/") for f in _payload(result.bag))
    assert bagit.Bag(str(result.bag)).is_valid()


def test_export_is_refused_without_the_recipients_consent_scope(seeded, run_cli, tmp_path):
    ws = seeded.ws
    _confirm(seeded, seeded.sightings["other"])          # person 2 consented to identification only
    case, _ = open_case(ws, seeded.other_person, None, "officer")
    attach(ws, case, seeded.sightings["other"], None, "officer")
    result = run_cli("case", "export", str(case), "--recipient", "icrc", "--out", str(tmp_path / "o"), "--json")
    assert result.exit_code == 1 and "share-icrc" in json.loads(result.stdout)["error"]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    unknown = run_cli("case", "export", str(case), "--recipient", "newspaper", "--json")
    assert unknown.exit_code == 1 and "unknown recipient" in unknown.stdout
    ws.conn.execute("UPDATE consent SET revoked_at = '2024-06-01' WHERE person_id = ?", (seeded.person,))
    case1, _ = open_case(ws, seeded.person, None, "officer")
    assert run_cli("case", "export", str(case1), "--recipient", "court", "--json").exit_code == 1


def test_altered_evidence_is_not_exported(seeded, tmp_path):
    from svidok.cases.export import ExportError, export_case

    _confirm(seeded, seeded.sightings["video"])
    case, _ = open_case(seeded.ws, seeded.person, None, "officer")
    attach(seeded.ws, case, seeded.sightings["video"], None, "officer")
    stored = seeded.ws.path(seeded.ws.conn.execute("SELECT path FROM media WHERE sha256 = ?",
                                                   (seeded.video_sha,)).fetchone()[0])
    os.chmod(stored, 0o600)
    stored.write_bytes(stored.read_bytes() + b"x")
    with pytest.raises(ExportError, match="no longer matches"):
        export_case(seeded.ws, case, "icrc", tmp_path / "out", "officer")
    assert list((tmp_path / "out").iterdir()) == []


def test_case_officer_exports_from_the_ui(seeded, client_for):
    _confirm(seeded, seeded.sightings["video"])
    officer = client_for("officer")
    opened = officer.post("/cases", data={"csrf": officer.csrf, "person": str(seeded.person)}, follow_redirects=False)
    case_url = opened.headers["location"]
    officer.post(f"{case_url}/attach", data={"csrf": officer.csrf, "sighting": str(seeded.sightings["video"])})
    officer.post(f"{case_url}/notes", data={"csrf": officer.csrf, "text": "family informed"})
    page = officer.get(case_url).text
    assert "family informed" in page and f'href="/sightings/{seeded.sightings["video"]}"' in page
    done = officer.post(f"{case_url}/export", data={"csrf": officer.csrf, "recipient": "court"})
    assert done.status_code == 200 and 'id="bag-valid"' in done.text
    bag = Path(done.text.split('id="bag-path">')[1].split("<")[0])
    assert bag.parent == seeded.ws.root / "exports" and bagit.Bag(str(bag)).is_valid()
    refused = officer.post(f"{case_url}/export", data={"csrf": officer.csrf, "recipient": "ombudsman"})
    assert refused.status_code == 409 and "share-ombudsman" in refused.text
