"""RFC 3161 timestamps from a configured TSA — here `openssl ts -reply` on 127.0.0.1 with a
throwaway CA: requested over HTTP at export, checked by `package verify` against the TSA's root,
and by openssl itself; an altered or foreign timestamp is detected."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest

from svidok.cases.export import ExportError, export_case
from svidok.cases.package_sign import SIGNATURE, TIMESTAMP
from svidok.cases.package_verify import VerifyOptions, verify_package
from svidok.cases.timestamp import load_roots
from tests.cases.local_tsa import local_tsa
from tests.cases.tamper import read_package, write_package


def _settings(ws, **values):
    return dataclasses.replace(ws.settings.export, **values)


@pytest.fixture
def stamped(case_ready, tsa, tmp_path):
    ws = case_ready.seed.ws
    settings = _settings(ws, tsa_url=tsa.url, tsa_ca_file=str(tsa.ca))
    return export_case(ws, case_ready.case, "icrc", tmp_path / "out", "officer", settings)


def test_export_is_timestamped_and_verifies_against_the_tsa_root(case_ready, tsa, stamped):
    assert stamped.timestamp and tsa.requests
    report = verify_package(stamped.package, VerifyOptions(tsa_roots=load_roots(tsa.ca)))
    assert report.ok, report.problems
    assert report.facts["timestamp"] == stamped.timestamp and "Svidok test TSA" in report.facts["tsa"]
    assert not any("timestamp" in w for w in report.warnings)
    unrooted = verify_package(stamped.package, VerifyOptions())
    assert unrooted.ok and any("certificate it carries" in w for w in unrooted.warnings)
    audit = case_ready.seed.ws.audit.entries(limit=1)[0]
    assert audit["action"] == "case.export" and audit["details"]["timestamp"] == stamped.timestamp


def test_openssl_agrees(tsa, stamped):
    sig = stamped.bag / SIGNATURE
    done = subprocess.run(["openssl", "ts", "-verify", "-data", str(sig), "-in", str(stamped.bag / TIMESTAMP),
                           "-CAfile", str(tsa.ca)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr


def test_altered_or_foreign_timestamps_are_detected(case_ready, tsa, stamped, tmp_path):
    top, members = read_package(stamped.package)
    token = bytearray(members[TIMESTAMP])
    token[-5] ^= 0xFF                                   # inside the TSA's signature
    members[TIMESTAMP] = bytes(token)
    altered = verify_package(write_package(tmp_path / "a.zip", top, members), VerifyOptions())
    assert [p["kind"] for p in altered.problems] == ["timestamp"]
    with local_tsa(tmp_path / "other-tsa") as other:     # a timestamp from a TSA nobody trusts
        foreign = verify_package(stamped.package, VerifyOptions(tsa_roots=load_roots(other.ca)))
    assert [p["kind"] for p in foreign.problems] == ["timestamp"]


def test_unreachable_tsa_refuses_the_export(case_ready, tmp_path):
    ws = case_ready.seed.ws
    settings = _settings(ws, tsa_url="http://127.0.0.1:9/tsa", tsa_timeout_s=2.0)
    with pytest.raises(ExportError, match="did not answer: .*; nothing exported"):
        export_case(ws, case_ready.case, "icrc", tmp_path / "out", "officer", settings)
    assert not any((tmp_path / "out").iterdir())


def test_cli_uses_the_configured_tsa(case_ready, tsa, run_json, workspace_path, monkeypatch, tmp_path):
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_URL", tsa.url)
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_CA_FILE", str(tsa.ca))
    result = run_json("case", "export", str(case_ready.case), "--recipient", "court", "--out", str(tmp_path / "o"))
    assert result["timestamp"] and result["package"].endswith(".zip") and result["files"] > 0
    checked = run_json("package", "verify", result["package"])
    assert checked["ok"] and checked["timestamp"] == result["timestamp"] and checked["warnings"] == []
    assert json.dumps(checked)
