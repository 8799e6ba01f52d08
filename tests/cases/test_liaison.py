"""The family-liaison log: for case officers and admins only, and never in the audit log's details."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from svidok.cases.liaison import ContactInput, LiaisonError, liaison_log, record_contact
from svidok.cases.person_status import StatusError
from svidok.cases.person_timeline import person_timeline
from tests.cases.status_helpers import Found, confirm, find_person, users

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def found(run_json, tmp_path, workspace_path) -> Found:
    return find_person(run_json, tmp_path, workspace_path)
SAID = "Пояснили, навіщо фото і хто їх побачить"
TOLD = "Бачили живим у відео з травня"


def contact(person: int, kind: str, said: str) -> ContactInput:
    return ContactInput(person, kind, TODAY, "Olena K.", "Марія Петренко", "phone", said, "mother", None)


def test_only_officers_and_admins_read_the_log(found) -> None:
    with found.open() as ws:
        record_contact(ws, contact(found.person, "consent", SAID), "officer")
        people = users(ws)
        for name in ("analyst", "rev1"):
            with pytest.raises(LiaisonError, match="may not read"):
                liaison_log(ws, people[name], found.person)
        for name in ("officer", "admin"):
            assert [c.summary for c in liaison_log(ws, people[name], found.person)] == [SAID]


def test_telling_the_family_waits_for_confirmation(found) -> None:
    with found.open() as ws:
        with pytest.raises(StatusError, match="confirmed"):
            record_contact(ws, contact(found.person, "informed", TOLD), "officer")
        record_contact(ws, contact(found.person, "contact", "Asked for news"), "officer")   # any time
    confirm(found)
    with found.open() as ws:
        record_contact(ws, contact(found.person, "informed", TOLD), "officer")
        assert [e.step for e in person_timeline(ws, found.person, liaison=True)][-1] == "informed"


def test_the_timeline_without_liaison_shows_when_not_what(run_json, found) -> None:
    confirm(found)
    with found.open() as ws:
        record_contact(ws, contact(found.person, "consent", SAID), "officer")
        record_contact(ws, contact(found.person, "informed", TOLD), "officer")
    plain = json.dumps(run_json("person", "show", str(found.person)), ensure_ascii=False)
    assert "family informed by Olena K. (phone)" in plain
    assert TOLD not in plain and SAID not in plain and '"family_member"' not in plain
    full = run_json("person", "show", str(found.person), "--liaison")
    assert [e["step"] for e in full["timeline"]][-2:] == ["confirmed", "informed"]
    assert any(e["step"] == "consent" and SAID in e["text"] for e in full["timeline"])
    assert full["status"]["informed"][0]["summary"] == TOLD
    assert [c["kind"] for c in run_json("person", "liaison", str(found.person))] == ["consent", "informed"]


def test_audit_entries_carry_nothing_of_the_conversation(found) -> None:
    confirm(found)
    with found.open() as ws:
        record_contact(ws, contact(found.person, "informed", TOLD), "officer")
        entry = next(e for e in ws.audit.entries() if e["action"] == "family.inform")
    assert entry["object"] == f"family:{found.person}" and entry["actor"] == "officer"
    assert entry["details"]["relation"] == "mother" and entry["details"]["channel"] == "phone"
    text = json.dumps(entry, ensure_ascii=False)
    assert TOLD not in text and "Марія" not in text
