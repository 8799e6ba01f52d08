"""A person's status flow: each transition audited, refused out of order, visible in the timeline."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from svidok.cases.person_status import step_counts, uninformed_after
from tests.cases.status_helpers import Found, confirm, find_person

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def found(run_json, tmp_path, workspace_path) -> Found:
    return find_person(run_json, tmp_path, workspace_path)


def step(run_json, person: int) -> str:
    return run_json("person", "show", str(person))["status"]["step"]


def refused(run_cli, *args: str) -> str:
    result = run_cli(*args, "--json")
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["error"]


def report(person: int, on: str = TODAY) -> tuple[str, ...]:
    return ("person", "report", str(person), "--to", "icrc", "--date", on, "--by", "Olena K.",
            "--reference", "CTA-2024-0815")


def inform(person: int, on: str = TODAY) -> tuple[str, ...]:
    return ("person", "inform", str(person), "--date", on, "--by", "Olena K.", "--with", "Марія Петренко",
            "--relation", "mother", "--how", "in-person", "--said", "Seen alive in a video posted in May",
            "--follow-up", (date.fromisoformat(on) + timedelta(days=14)).isoformat())


def place(person: int, on: str = TODAY) -> tuple[str, ...]:
    return ("person", "place", str(person), "--site", "olenivka-colony-120", "--date", on)


def test_each_step_in_order_is_audited_and_on_the_timeline(run_json, run_cli, found) -> None:
    assert step(run_json, found.person) == "candidate"                    # derived from the pending sighting
    for args in (report(found.person), inform(found.person), place(found.person)):
        assert "only after a sighting of the person is confirmed" in refused(run_cli, *args)
    confirm(found)
    assert step(run_json, found.person) == "confirmed"
    assert "out of order" in refused(run_cli, *report(found.person, "2020-01-01"))
    assert run_json(*report(found.person))["step"] == "reported"
    assert step(run_json, found.person) == "reported"
    assert run_json(*place(found.person))["place"] == "Volnovakha penal colony No. 120, Olenivka"
    run_json(*inform(found.person))
    shown = run_json("person", "show", str(found.person))
    assert shown["status"]["step"] == "informed"
    assert [e["step"] for e in shown["timeline"]] == ["missing", "candidate", "confirmed", "reported", "place",
                                                      "informed"]
    confirmed = next(e for e in shown["timeline"] if e["step"] == "confirmed")
    assert confirmed["actor"] == "rev1, rev2" and confirmed["sighting_ids"] == [found.sighting]
    assert shown["status"]["place"]["site_key"] == "olenivka-colony-120"
    assert shown["status"]["reports"][0]["reference"] == "CTA-2024-0815"
    with found.open() as ws:
        actions = [e["action"] for e in reversed(ws.audit.entries())]
        assert ws.audit.verify().ok
        seqs = {e["seq"]: e for e in ws.audit.entries()}
    assert [a for a in actions if a in ("person.add", "match.run", "decision.record", "person.report",
                                        "person.place", "family.inform")] == [
        "person.add", "match.run", "decision.record", "decision.record", "person.report", "person.place",
        "family.inform"]
    recorded = [e for e in shown["timeline"] if e["step"] in ("reported", "place", "informed")]
    assert all(seqs[e["audit_seq"]]["actor"] == e["actor"] == "cli" for e in recorded)


def test_confirmation_holds_dates_sightings_and_the_places_named(run_json, found) -> None:
    confirm(found)
    confirmation = run_json("person", "show", str(found.person))["status"]["confirmation"]
    assert confirmation["sighting_ids"] == [found.sighting]
    assert confirmation["first_seen"] == confirmation["last_seen"] is not None
    assert confirmation["confirmed_at"][:10] == TODAY
    assert [s["site"] for s in confirmation["sites"]] == ["olenivka-colony-120"]


def test_the_family_may_be_told_before_a_report(run_json, found) -> None:
    confirm(found)
    run_json(*inform(found.person))
    assert step(run_json, found.person) == "informed"
    run_json(*report(found.person))
    assert step(run_json, found.person) == "informed"                     # the furthest step reached


def test_bad_values_are_refused_with_one_line(run_cli, run_json, found) -> None:
    confirm(found)
    p = str(found.person)
    assert "icrc, coordination-hq, ombudsman" in refused(run_cli, "person", "report", p, "--to", "press",
                                                         "--date", TODAY, "--by", "X")
    assert "YYYY-MM-DD" in refused(run_cli, "person", "report", p, "--to", "icrc", "--date", "03.06.2024", "--by", "X")
    future = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    assert "in the future" in refused(run_cli, *report(found.person, future))
    assert "only confirmed sightings" in refused(run_cli, *report(found.person), "--sighting", "999")
    assert "no detention site 'nowhere'" in refused(run_cli, "person", "place", p, "--site", "nowhere",
                                                    "--date", TODAY)
    assert "either" in refused(run_cli, "person", "place", p, "--date", TODAY)
    follow_first = [*inform(found.person)[:-1], "2000-01-01"]
    assert "before the contact" in refused(run_cli, *follow_first)
    assert "no person" in refused(run_cli, *report(99))
    run_json(*report(found.person))
    assert "already recorded" in refused(run_cli, *report(found.person))


def test_counts_per_step_and_families_not_informed(run_json, found) -> None:
    run_json("person", "add", "--name", "Іван Коваль")
    status = run_json("status")
    assert status["persons"] == {"missing": 1, "candidate": 1, "confirmed": 0, "reported": 0, "informed": 0}
    assert status["sightings"]["pending"] == 1 and status["uninformed_after_days"] == []
    assert status["media"] == 1 and status["analysis_pending"] + status["analyzed"] + status["analysis_failed"] == 1
    confirm(found)
    assert run_json("status")["uninformed_after_days"] == []              # confirmed today: not overdue at 14 days
    overdue = run_json("status", "--days", "0")["uninformed_after_days"]
    assert [(u["person_id"], u["step"], u["days"]) for u in overdue] == [(found.person, "confirmed", 0)]
    with found.open() as ws:
        later = uninformed_after(ws, 14, datetime.now(UTC).date() + timedelta(days=20))
        assert [(u.person_id, u.days) for u in later] == [(found.person, 20)]
        assert step_counts(ws)["confirmed"] == 1
    run_json(*inform(found.person))
    assert run_json("status", "--days", "0")["uninformed_after_days"] == []
    assert run_json("status")["persons"]["informed"] == 1



@pytest.mark.sqlite_only
def test_an_older_workspace_gains_the_status_tables_in_place(tmp_path) -> None:
    """Every pre-Alembic SQLite version (user_version 0-8) upgrades in place to Alembic's head."""
    import sqlite3

    import sqlite_utils

    from svidok.foundation.database import Database, sqlite_url
    from svidok.foundation.schema import ALEMBIC_ERA, MIGRATIONS, _head_revision, migrate

    tables = {"person_report", "family_contact", "person_place", "reference_repost", "alembic_version"}
    for version in range(len(MIGRATIONS) + 1):
        path = tmp_path / f"v{version}.db"
        legacy = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
        for number, migration in enumerate(MIGRATIONS[:version], start=1):
            migration(legacy)
            legacy.execute(f"PRAGMA user_version = {number}")
        if version >= 3:                                      # version 3 made the person table
            legacy.execute("INSERT INTO person (name, created_at) VALUES ('Олександр Петренко', 'then')")
        legacy.conn.close()
        db = Database(sqlite_url(path))
        assert migrate(db) == _head_revision()
        assert tables <= db.tables(), version
        assert db.execute("PRAGMA user_version").scalar_one() == ALEMBIC_ERA
        assert db.execute("SELECT count(*) FROM person").scalar_one() == (1 if version >= 3 else 0)
        db.close()
