"""An exported package verifies; each way of altering it afterwards is detected by
`svidok package verify`: a payload byte, the summary, a recomputed manifest, the signature
removed, the audit tip changed (and re-signed with another key)."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.cases.export import export_case
from svidok.cases.package_sign import PUBLIC_KEY, SIGNATURE, TIMESTAMP
from svidok.cases.package_verify import VerifyOptions, verify_package
from svidok.foundation.workspace import Workspace
from tests.cases.tamper import read_package, recompute_manifests, resign, set_bag_info, write_package
from tests.review_ui.conftest import seed_workspace


@pytest.fixture
def exported(case_ready, tmp_path):
    return export_case(case_ready.seed.ws, case_ready.case, "icrc", tmp_path / "out", "officer")


def _kinds(report) -> set[str]:
    return {p["kind"] for p in report.problems}


def test_an_exported_package_verifies_as_zip_and_as_folder(case_ready, exported):
    ws = case_ready.seed.ws
    assert exported.package.is_file() and exported.package.name == f"{exported.bag.name}.zip"
    for path in (exported.package, exported.bag):
        alone = verify_package(path, VerifyOptions())
        assert alone.ok, alone.problems
        assert alone.facts["audit"]["checked_against"] == "package only"
        assert any("published key" in w for w in alone.warnings)
        with_ws = verify_package(path, VerifyOptions(workspace=ws))
        assert with_ws.ok and not with_ws.warnings, (with_ws.problems, with_ws.warnings)
        export_seq = ws.conn.execute("SELECT MAX(seq) FROM audit WHERE action = 'case.export'").fetchone()[0]
        assert with_ws.facts["audit"]["export_entry"] == export_seq
    assert with_ws.facts["signing_key_sha256"] == exported.signing_key_sha256


def test_the_key_is_made_once_private_and_reused(case_ready, exported, tmp_path):
    ws = case_ready.seed.ws
    key = ws.root / "keys" / "package-signing-ed25519.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700
    published = key.with_name("package-signing-ed25519.pub.pem")
    assert (exported.bag / PUBLIC_KEY).read_bytes() == published.read_bytes()
    again = export_case(ws, case_ready.case, "court", tmp_path / "out", "officer")
    assert again.signing_key_sha256 == exported.signing_key_sha256
    assert verify_package(again.package, VerifyOptions(expected_key_pem=published.read_bytes())).ok


def test_tamper_1_a_payload_byte(exported, tmp_path):
    top, members = read_package(exported.package)
    media = next(n for n in members if n.startswith("data/media/"))
    members[media] = members[media][:100] + bytes([members[media][100] ^ 1]) + members[media][101:]
    report = verify_package(write_package(tmp_path / "t1.zip", top, members), VerifyOptions())
    assert not report.ok and f"{media} does not match its SHA-256 in the manifest" in str(report.problems)


def test_tamper_2_the_summary_with_manifests_recomputed(exported, tmp_path):
    top, members = read_package(exported.package)
    html = members["data/summary.html"].decode()
    assert "rev1: шрам" in html
    members["data/summary.html"] = html.replace("rev1: шрам", "rev1: не схожий / not alike").encode()
    recompute_manifests(members)
    report = verify_package(write_package(tmp_path / "t2.zip", top, members), VerifyOptions())
    assert not report.ok and _kinds(report) == {"signature"}, report.problems
    assert "changed after signing" in report.problems[0]["what"]


def test_tamper_3_a_record_with_manifests_recomputed(exported, tmp_path):
    top, members = read_package(exported.package)
    case = json.loads(members["data/case.json"])
    case["sightings"][0]["score"] = 0.99
    members["data/case.json"] = json.dumps(case, ensure_ascii=False).encode()
    recompute_manifests(members)
    tampered = write_package(tmp_path / "t3.zip", top, members)
    assert _kinds(verify_package(tampered, VerifyOptions())) == {"signature"}
    members.pop("data/case.json")                      # dropping a payload file is just as visible
    recompute_manifests(members)
    assert not verify_package(write_package(tmp_path / "t3b.zip", top, members), VerifyOptions()).ok


def test_tamper_4_the_signature_removed(exported, tmp_path):
    top, members = read_package(exported.package)
    for name in (SIGNATURE, PUBLIC_KEY, TIMESTAMP):
        members.pop(name, None)
    report = verify_package(write_package(tmp_path / "t4.zip", top, members), VerifyOptions())
    assert not report.ok and "not signed" in report.problems[0]["what"]


def test_tamper_5_the_audit_tip_changed_and_resigned(case_ready, exported, tmp_path):
    ws = case_ready.seed.ws
    top, members = read_package(exported.package)
    custody = json.loads(members["data/custody.json"])
    fake = "f" * 64
    custody["audit_verify"]["tip"] = fake
    members["data/custody.json"] = json.dumps(custody, ensure_ascii=False).encode()
    set_bag_info(members, "Svidok-Audit-Tip", fake)
    recompute_manifests(members)
    resign(members, Ed25519PrivateKey.generate())
    tampered = write_package(tmp_path / "t5.zip", top, members)
    alone = verify_package(tampered, VerifyOptions())
    assert "the audit tip does not recompute from the tip entry recorded with it" in str(alone.problems)
    published = (ws.root / "keys" / "package-signing-ed25519.pub.pem").read_bytes()
    keyed = verify_package(tampered, VerifyOptions(expected_key_pem=published))
    assert {"signature", "audit"} <= _kinds(keyed) and "not the organisation's key" in str(keyed.problems)
    against_ws = verify_package(tampered, VerifyOptions(workspace=ws))
    assert "not the organisation's key" in str(against_ws.problems)
    assert "not in this workspace's audit chain" not in str(against_ws.problems)   # the tip entry itself is real
    assert "the audit tip does not recompute" in str(against_ws.problems)


def test_a_package_whose_audit_tip_is_not_in_the_workspace_fails(exported, tmp_path, another_database):
    with Workspace.create(tmp_path / "other", another_database) as other:
        seed_workspace(other)                           # another organisation's workspace: its own chain
        report = verify_package(exported.package, VerifyOptions(workspace=other))
    assert "not in this workspace's audit chain" in str(report.problems)


def test_hostile_archives_are_refused_without_extracting(tmp_path):
    from tests.cases.tamper import write_package as write

    write(tmp_path / "two.zip", "a", {"bagit.txt": b"x"})
    import zipfile

    with zipfile.ZipFile(tmp_path / "two.zip", "a") as archive:
        archive.writestr("b/bagit.txt", b"x")
        archive.writestr("../../evil.txt", b"x")
    report = verify_package(tmp_path / "two.zip", VerifyOptions())
    assert not report.ok and report.problems[0]["kind"] == "archive"
    (tmp_path / "junk.zip").write_bytes(os.urandom(100))
    assert verify_package(tmp_path / "junk.zip", VerifyOptions()).problems[0]["kind"] == "archive"
    assert not (tmp_path.parent / "evil.txt").exists()


def test_cli_verify_json_contract(case_ready, exported, run_cli, tmp_path):
    ok = run_cli("package", "verify", str(exported.package), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True and json.loads(ok.stdout)["problems"] == []
    top, members = read_package(exported.package)
    members["data/case.json"] = members["data/case.json"].replace(b'"score"', b'"scor"', 1)
    bad = run_cli("package", "verify", str(write_package(tmp_path / "bad.zip", top, members)), "--json")
    doc = json.loads(bad.stdout)
    assert bad.exit_code == 1 and doc["ok"] is False and doc["problems"][0]["kind"] == "manifest"
    missing = run_cli("package", "verify", str(tmp_path / "nothing.zip"), "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["ok"] is False
