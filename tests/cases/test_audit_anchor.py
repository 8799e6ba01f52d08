"""`svidok audit anchor`: the audit tip timestamped by the local TSA (`openssl ts -reply` on
127.0.0.1) and checked by `svidok verify` / `svidok audit verify`. A chain rewritten with every
hash recomputed passes the chain check but not the first anchor at or after the rewritten entry;
an altered, foreign or deleted token is reported; no TSA is one clear error; an unchanged tip is
not anchored again; a workspace at revision 0001 gains the table when opened."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from svidok.cases.archive_verify import verify_archive
from svidok.cases.audit_anchors import anchor_message, anchor_tip
from svidok.foundation.audit import _entry_hash
from svidok.foundation.workspace import DB_NAME, Workspace
from tests.cases.archive_seed import problems_of
from tests.cases.local_tsa import local_tsa
from tests.cases.tamper import _plain_connection, drop_audit_triggers, raw_sql


def _fill(ws, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        ws.audit.append("tester", "test.note", f"note:{i}", {"said": f"note {i}"})


@pytest.fixture
def with_tsa(tsa, monkeypatch):
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_URL", tsa.url)
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_CA_FILE", str(tsa.ca))
    return tsa


@pytest.fixture
def ws(fresh_workspace, workspace_path, with_tsa):
    """The workspace opened again with the TSA settings (as every CLI command opens it)."""
    opened = Workspace.open(workspace_path)
    yield opened
    opened.close()


def _tip(ws) -> tuple[int, str]:
    seq, digest = ws.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return int(seq), digest


def _anchors(ws) -> int:
    return ws.conn.execute("SELECT COUNT(*) FROM audit_anchor").scalar_one()


def _drop_anchor_triggers(ws) -> None:
    if ws.conn.backend == "sqlite":
        statements = ["DROP TRIGGER audit_anchor_no_update", "DROP TRIGGER audit_anchor_no_delete"]
    else:
        statements = ["DROP TRIGGER audit_anchor_no_update ON audit_anchor",
                      "DROP TRIGGER audit_anchor_no_truncate ON audit_anchor"]
    raw_sql(ws.root / DB_NAME, *((sql, ()) for sql in statements))


def test_anchor_then_everything_verifies(ws, run_json, with_tsa, tmp_path):
    _fill(ws, 5)
    seq, digest = _tip(ws)
    asked = len(with_tsa.requests)
    result = run_json("audit", "anchor")
    anchor = result["anchor"]
    assert result["anchored"] is True and len(with_tsa.requests) == asked + 1
    assert (anchor["seq"], anchor["tip"], anchor["tsa_url"]) == (seq, digest, with_tsa.url)
    entry = ws.audit.entries(limit=1)[0]
    assert (entry["seq"], entry["action"], entry["object"]) == (result["audit_seq"], "audit.anchor",
                                                                f"audit_anchor:{anchor['id']}")
    assert entry["details"] == {"seq": seq, "tip": digest, "tsa_url": with_tsa.url, "gen_time": anchor["gen_time"]}
    stored = ws.conn.execute("SELECT token FROM audit_anchor WHERE id = ?", (anchor["id"],)).scalar_one()
    assert bytes(stored) == base64.b64decode(anchor["token_base64"])

    report = verify_archive(ws)
    assert report.ok, report.problems
    checked = run_json("audit", "verify")
    assert checked["ok"] is True and checked["entries"] == seq + 1 and checked["problems"] == []
    assert checked["anchor"]["id"] == anchor["id"] and checked["anchor"]["ok"] is True

    (tmp_path / "tip.txt").write_bytes(anchor_message(seq, digest))        # the check the docs give, by openssl
    (tmp_path / "token.tsr").write_bytes(bytes(stored))
    done = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "tip.txt"), "-in",
                           str(tmp_path / "token.tsr"), "-CAfile", str(with_tsa.ca)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr


def test_an_unchanged_tip_is_not_anchored_again(ws, run_json, run_cli, with_tsa):
    _fill(ws, 3)
    first = run_json("audit", "anchor")
    asked, entries = len(with_tsa.requests), _tip(ws)[0]
    again = run_json("audit", "anchor")
    assert again == {"anchored": False, "audit_seq": None,
                     "anchor": {k: v for k, v in first["anchor"].items() if k != "token_base64"}}
    said = run_cli("audit", "anchor")
    assert said.exit_code == 0 and "nothing to anchor" in said.output
    assert len(with_tsa.requests) == asked and _tip(ws)[0] == entries and _anchors(ws) == 1
    _fill(ws, 1, start=3)                                                   # the log moved on
    moved = run_json("audit", "anchor")
    assert moved["anchored"] is True and moved["anchor"]["seq"] == entries + 1 and _anchors(ws) == 2


def test_no_tsa_is_one_clear_error(fresh_workspace, run_cli, monkeypatch):
    monkeypatch.delenv("SVIDOK_EXPORT_TSA_URL", raising=False)
    _fill(fresh_workspace, 2)
    result = run_cli("audit", "anchor", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": "no time-stamping authority is configured: set export.tsa_url"
                                                  " (SVIDOK_EXPORT_TSA_URL)"}
    assert "Traceback" not in result.output and _anchors(fresh_workspace) == 0
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_URL", "http://127.0.0.1:9/tsa")   # nothing listens there
    monkeypatch.setenv("SVIDOK_EXPORT_TSA_TIMEOUT_S", "2")
    unreachable = run_cli("audit", "anchor")
    assert unreachable.exit_code == 1 and "did not answer" in unreachable.output and _anchors(fresh_workspace) == 0


def _rewrite_from(ws, seq: int) -> None:
    """Change entry `seq`'s details and recompute the hash of it and of every later entry, with
    the audit triggers dropped, as someone with write access to the database could."""
    drop_audit_triggers(ws.root / DB_NAME)
    rows = ws.conn.execute("SELECT seq, at, actor, action, object, details, prev_hash FROM audit WHERE seq >= ?"
                           " ORDER BY seq", (seq,)).fetchall()
    statements, prev = [], rows[0][6]
    for number, at, actor, action, obj, details, _ in rows:
        if number == seq:
            details = json.dumps({"said": "something else"})
        digest = _entry_hash(prev, number, at, actor, action, obj, details)
        statements.append(("UPDATE audit SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                           (details, prev, digest, number)))
        prev = digest
    raw_sql(ws.root / DB_NAME, *statements)


def test_a_rewritten_chain_is_reported_from_the_first_anchor_after_it(ws, run_json, run_cli):
    _fill(ws, 3)
    early = run_json("audit", "anchor")["anchor"]                           # entry 3 (4: its audit.anchor)
    _fill(ws, 3, start=3)
    late = run_json("audit", "anchor")["anchor"]                            # entry 7
    _fill(ws, 2, start=6)
    assert (early["seq"], late["seq"]) == (3, 7)
    _rewrite_from(ws, 5)                                                    # between the two anchors

    assert ws.audit.verify().ok                                             # the chain alone passes
    report = verify_archive(ws)
    [problem] = problems_of(report, "audit-anchor")
    assert [p.kind for p in report.problems] == ["audit-anchor"]
    assert problem.startswith(f"audit anchor {late['id']} (entry 7, timestamped {late['gen_time']})")
    assert "the log was rewritten at or before entry 7" in problem and f"anchor {early['id']} " not in problem

    result = run_cli("verify", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["problems"] == [{"kind": "audit-anchor",
                                                                                "what": problem}]
    checked = run_cli("audit", "verify", "--json")
    data = json.loads(checked.stdout)
    assert checked.exit_code == 1 and data["ok"] is False and data["anchor"]["ok"] is False
    assert data["problems"] == [{"seq": 7, "problem": problem}]
    refused = run_cli("audit", "anchor")                                    # cron does not anchor a rewritten log
    assert refused.exit_code == 1 and "audit entry 7 no longer has the hash the TSA timestamped" in refused.output
    assert _anchors(ws) == 2


def test_an_altered_token_is_reported(ws, run_json):
    _fill(ws, 2)
    anchor = run_json("audit", "anchor")["anchor"]
    token = bytearray(base64.b64decode(anchor["token_base64"]))
    token[-5] ^= 0xFF                                                       # inside the TSA's signature
    _drop_anchor_triggers(ws)
    raw_sql(ws.root / DB_NAME, ("UPDATE audit_anchor SET token = ? WHERE id = ?", (bytes(token), anchor["id"])))
    [problem] = problems_of(verify_archive(ws), "audit-anchor")
    assert problem.startswith(f"audit anchor {anchor['id']} (entry {anchor['seq']},")
    assert "the timestamp's signature does not check" in problem


def test_a_token_from_an_untrusted_tsa_is_reported(ws, run_json, tmp_path, monkeypatch):
    _fill(ws, 2)
    with local_tsa(tmp_path / "other-tsa") as other:                        # a real token, from a TSA nobody trusts
        monkeypatch.setenv("SVIDOK_EXPORT_TSA_URL", other.url)
        monkeypatch.setenv("SVIDOK_EXPORT_TSA_CA_FILE", str(other.ca))
        anchor = run_json("audit", "anchor")["anchor"]
    report = verify_archive(ws)                                             # trusts the first TSA only
    [problem] = problems_of(report, "audit-anchor")
    assert problem.startswith(f"audit anchor {anchor['id']} ") and "does not check" in problem


def test_anchors_are_append_only_and_a_deleted_one_is_reported(ws, run_json):
    _fill(ws, 2)
    anchor = run_json("audit", "anchor")["anchor"]
    for sql in ("UPDATE audit_anchor SET tip = 'x'", "DELETE FROM audit_anchor"):
        with pytest.raises(Exception, match="append-only"):
            ws.conn.execute(sql)
    _drop_anchor_triggers(ws)
    raw_sql(ws.root / DB_NAME, ("DELETE FROM audit_anchor WHERE id = ?", (anchor["id"],)))
    [problem] = problems_of(verify_archive(ws), "audit-anchor")
    assert problem == f"audit entry 3 recorded audit anchor {anchor['id']}, which the database no longer has"


@pytest.mark.sqlite_only
def test_a_workspace_at_revision_0001_gains_the_anchor_table_when_opened(tmp_path, with_tsa):
    from alembic import command

    from svidok.foundation.audit import AuditLog
    from svidok.foundation.database import Database, sqlite_url
    from svidok.foundation.schema import ALEMBIC_ERA, _alembic_config, _head_revision

    root = tmp_path / "old"
    root.mkdir()
    db = Database(sqlite_url(root / DB_NAME))
    with db.transaction():
        command.upgrade(_alembic_config(db), "0001")
        db.execute(f"PRAGMA user_version = {ALEMBIC_ERA}")
    AuditLog(db).append("cli", "workspace.init", str(root))
    assert "audit_anchor" not in db.tables()
    db.close()

    with Workspace.create(root) as ws:
        assert ws.conn.execute("SELECT version_num FROM alembic_version").scalar_one() == _head_revision()
        assert "audit_anchor" in ws.conn.tables() and ws.audit.verify().entries == 1
        result = anchor_tip(ws, ws.settings.export)
        assert result.anchored and result.anchor.seq == 1 and verify_archive(ws).ok
        with pytest.raises(Exception, match="append-only"):
            ws.conn.execute("DELETE FROM audit_anchor")
    conn = _plain_connection(root / DB_NAME)                                # the triggers, as sqlite3 lists them
    triggers = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                                 " AND tbl_name = 'audit_anchor'")}
    conn.close()
    assert triggers == {"audit_anchor_no_update", "audit_anchor_no_delete"}


def test_anchors_move_with_the_workspace_to_postgresql(run_json, with_tsa, monkeypatch):
    """`svidok migrate-to` copies the anchors (tokens as bytea) and they check there."""
    from tests.conftest import POSTGRESQL_SERVER
    from tests.postgresql import PostgreSQLServer

    server = PostgreSQLServer.reach(POSTGRESQL_SERVER)
    monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)               # the source: SQLite in the folder
    run_json("init")
    anchor = run_json("audit", "anchor")["anchor"]
    url = server.create_empty()
    try:
        assert run_json("migrate-to", url)["rows"]["audit_anchor"] == 1
        monkeypatch.setenv("SVIDOK_DATABASE_URL", url)
        checked = run_json("audit", "verify")
        assert checked["anchor"] == {k: v for k, v in anchor.items() if k != "token_base64"} | {"ok": True}
        assert run_json("verify")["ok"] is True
        assert run_json("audit", "anchor")["anchored"] is False
    finally:
        server.drop(url)
