"""`svidok migrate-to URL`: an existing SQLite workspace moves to PostgreSQL with its audit chain."""

from __future__ import annotations

import pytest

from tests.conftest import POSTGRESQL_SERVER
from tests.factories import channel_export
from tests.postgresql import PostgreSQLServer


@pytest.fixture
def empty_postgresql_database():
    """A new, empty PostgreSQL database (no schema yet), dropped afterwards."""
    server = PostgreSQLServer.reach(POSTGRESQL_SERVER)
    url = server.create_empty()
    yield url
    server.drop(url)


def test_a_sqlite_workspace_moves_to_postgresql(run_json, run_cli, tmp_path, monkeypatch, empty_postgresql_database):
    monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)           # the source: SQLite in the folder
    run_json("ingest", "tdesktop", str(channel_export(tmp_path / "e")))
    person = run_json("person", "add", "--name", "Олександр Петренко")["id"]
    run_json("consent", "add", str(person), "--given-by", "Марія Петренко", "--relation", "mother",
             "--date", "2024-05-01", "--scope", "identification,court")
    before_items = run_json("items", "list")
    before_audit = run_json("audit", "verify")

    report = run_json("migrate-to", empty_postgresql_database)
    assert report["audit"] == {"entries": before_audit["entries"], "tip": before_audit["tip"], "ok": True}
    assert report["rows"]["item"] == len(before_items) and report["rows"]["person"] == 1
    assert "password" not in report["destination"]

    monkeypatch.setenv("SVIDOK_DATABASE_URL", empty_postgresql_database)   # everyone now uses the server
    assert run_json("items", "list") == before_items
    assert run_json("audit", "verify")["tip"] == before_audit["tip"]
    assert run_json("search", "пленный")[0]["item_id"] == next(i["id"] for i in before_items
                                                               if i["source_id"] == "777/1")
    assert run_json("person", "add", "--name", "Іван Коваль")["id"] == person + 1    # ids go on after the copy
    after = run_json("audit", "verify")
    assert after["ok"] and after["entries"] == before_audit["entries"] + 1


def test_the_copy_refuses_a_database_that_holds_rows(run_json, run_cli, tmp_path, monkeypatch,
                                                     empty_postgresql_database):
    monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)
    run_cli("init")
    run_json("person", "add", "--name", "Олександр Петренко")
    run_json("migrate-to", empty_postgresql_database)
    again = run_cli("migrate-to", empty_postgresql_database, "--json")
    assert again.exit_code == 1 and "already holds rows" in again.output


def test_an_unreachable_server_is_one_clear_error(run_cli, monkeypatch):
    monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)
    run_cli("init")
    result = run_cli("migrate-to", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "cannot open the database postgresql://nobody@127.0.0.1:1/none" in result.output
    assert "Traceback" not in result.output
