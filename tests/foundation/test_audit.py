"""The hash-chained audit log: append-only, and tampering is detected."""

from __future__ import annotations

import json

import pytest

from svidok.foundation.workspace import DB_NAME
from tests.cases.tamper import drop_audit_triggers


def _fill(ws, n=5):
    for i in range(n):
        ws.audit.append("tester", "test.action", f"item:{i}", {"i": i})


def test_verify_ok_and_cli(fresh_workspace, run_json):
    _fill(fresh_workspace)
    assert run_json("audit", "verify") | {"tip": None} == {"ok": True, "entries": 5, "tip": None, "problems": [],
                                                          "anchor": None}


def test_update_and_delete_are_refused_by_the_database(fresh_workspace):
    _fill(fresh_workspace)
    with pytest.raises(Exception, match="append-only"):
        fresh_workspace.conn.execute("UPDATE audit SET actor = 'x' WHERE seq = 2")
    with pytest.raises(Exception, match="append-only"):
        fresh_workspace.conn.execute("DELETE FROM audit WHERE seq = 2")


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE audit SET details = '{\"i\": 99}' WHERE seq = 3", "content was changed"),
    ("DELETE FROM audit WHERE seq = 3", "missing"),
])
def test_tampering_around_the_triggers_is_detected(fresh_workspace, run_cli, tamper, problem):
    _fill(fresh_workspace)
    conn = fresh_workspace.conn
    drop_audit_triggers(fresh_workspace.root / DB_NAME)
    conn.execute(tamper)
    result = run_cli("audit", "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert any(problem in p["problem"] for p in report["problems"])
