"""Blind, independent review: counting, conflicts, resolution, the queue, and the audit trail.
(What a decision needs, amending and escalation: test_deliberate.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from svidok.cases.decisions import DecisionError, decisions_for, record_decision, resolve_conflict
from svidok.cases.sightings import QueueFilter, pending_queue
from svidok.cases.users import get_user
from tests.review_ui.conftest import CHECKLIST, evidence


def _user(seeded, name):
    return get_user(seeded.ws, seeded.users[name])


def _status(seeded, sid):
    return seeded.ws.conn.execute("SELECT status FROM sighting WHERE id = ?", (sid,)).fetchone()[0]


def test_two_independent_confirmations_confirm(seeded):
    sid = seeded.sightings["video"]
    first = record_decision(seeded.ws, sid, _user(seeded, "rev1"), "confirm", **evidence("same scar"))
    assert first.status == "pending" and _status(seeded, sid) == "pending"
    with pytest.raises(DecisionError, match="already decided"):
        record_decision(seeded.ws, sid, _user(seeded, "rev1"), "confirm", **evidence())
    second = record_decision(seeded.ws, sid, _user(seeded, "rev2"), "confirm", **evidence())
    assert second.status == "confirmed" and _status(seeded, sid) == "confirmed"
    with pytest.raises(DecisionError, match="takes no more decisions"):
        record_decision(seeded.ws, sid, _user(seeded, "rev3"), "reject", observation="ears differ")
    assert [d.checklist for d in decisions_for(seeded.ws, sid)] == [CHECKLIST, CHECKLIST]
    assert [d.revealed for d in decisions_for(seeded.ws, sid)] == [True, True]


def test_unsure_counts_as_the_reviewers_decision_and_leaves_nothing_pending(seeded):
    sid = seeded.sightings["photo"]
    assert record_decision(seeded.ws, sid, _user(seeded, "rev1"), "unsure").status == "pending"
    outcome = record_decision(seeded.ws, sid, _user(seeded, "rev2"), "confirm", **evidence())
    assert (outcome.status, outcome.reason) == ("conflict", "no-result") and _status(seeded, sid) == "conflict"
    with pytest.raises(DecisionError, match="takes no more decisions"):
        record_decision(seeded.ws, sid, _user(seeded, "rev3"), "confirm", **evidence())


def test_rejections_follow_their_own_count(seeded):
    ws = seeded.ws
    ws.settings = dataclasses.replace(ws.settings, review=dataclasses.replace(ws.settings.review, rejections_needed=3))
    sid = seeded.sightings["photo"]
    for name, status in (("rev1", "pending"), ("rev2", "pending"), ("rev3", "rejected")):
        assert record_decision(ws, sid, _user(seeded, name), "reject", observation="ears differ").status == status


def test_disagreement_is_a_conflict_an_admin_resolves(seeded):
    sid = seeded.sightings["video"]
    record_decision(seeded.ws, sid, _user(seeded, "rev1"), "confirm", **evidence())
    disagreed = record_decision(seeded.ws, sid, _user(seeded, "rev2"), "reject", observation="ears differ")
    assert (disagreed.status, disagreed.reason) == ("conflict", "disagreement")
    with pytest.raises(DecisionError):
        record_decision(seeded.ws, sid, _user(seeded, "rev3"), "confirm", **evidence())
    with pytest.raises(DecisionError, match="only an admin"):
        resolve_conflict(seeded.ws, sid, _user(seeded, "rev3"), "confirm", "looked again")
    with pytest.raises(DecisionError, match="needs a reason"):
        resolve_conflict(seeded.ws, sid, _user(seeded, "admin"), "confirm", " ")
    assert resolve_conflict(seeded.ws, sid, _user(seeded, "admin"), "reject", "different ear shape") == "rejected"
    assert decisions_for(seeded.ws, sid)[-1].verdict == "resolve-reject"
    last = seeded.ws.audit.entries(limit=1)[0]
    assert last["action"] == "decision.resolve" and last["details"]["reason"] == "different ear shape"


def test_roles_without_the_right_cannot_decide_and_bad_input_is_refused(seeded):
    sid = seeded.sightings["video"]
    for name in ("analyst", "officer"):
        with pytest.raises(DecisionError, match="may not decide"):
            record_decision(seeded.ws, sid, _user(seeded, name), "confirm", **evidence())
    with pytest.raises(DecisionError, match="verdict"):
        record_decision(seeded.ws, sid, _user(seeded, "rev1"), "identified")
    with pytest.raises(DecisionError, match="unknown checklist feature"):
        record_decision(seeded.ws, sid, _user(seeded, "rev1"), "confirm", {"tattoo": "similar"})
    with pytest.raises(DecisionError, match="is not one of"):
        record_decision(seeded.ws, sid, _user(seeded, "rev1"), "confirm", {"eyes": "same"})
    assert decisions_for(seeded.ws, sid) == []


def test_queue_is_by_score_without_own_decisions_and_filters(seeded):
    ws, rev1 = seeded.ws, _user(seeded, "rev1")
    ids = [r.id for r in pending_queue(ws, rev1, QueueFilter()).rows]
    s = seeded.sightings
    assert ids == [s["video"], s["photo"], s["other"], s["low"]]
    record_decision(ws, s["video"], rev1, "confirm", **evidence())
    assert s["video"] not in [r.id for r in pending_queue(ws, rev1, QueueFilter()).rows]
    assert s["video"] in [r.id for r in pending_queue(ws, _user(seeded, "rev2"), QueueFilter()).rows]
    assert [r.id for r in pending_queue(ws, rev1, QueueFilter(person_id=seeded.other_person)).rows] == [s["other"]]
    assert {r.id for r in pending_queue(ws, rev1, QueueFilter(source="other_channel")).rows} == \
        {s["photo"], s["other"], s["low"]}
    assert pending_queue(ws, rev1, QueueFilter(date_from="2024-04-15", date_to="2024-04-15")).total == 3
    assert pending_queue(ws, rev1, QueueFilter(date_to="2024-03-31")).total == 0
    assert [r.id for r in pending_queue(ws, rev1, QueueFilter(person_name="Коваленко")).rows] == [s["other"]]


def test_queue_page_filters_and_json_twin(seeded, client_for):
    client = client_for("rev1")
    data = client.get("/queue?format=json&person=Коваленко").json()
    assert data["total"] == 1 and data["sightings"][0]["id"] == seeded.sightings["other"]
    data = client.get(f"/api/queue?person={seeded.person}&source=other_channel").json()
    assert [r["id"] for r in data["sightings"]] == [seeded.sightings["photo"], seeded.sightings["low"]]
    assert data["sightings"][0]["kinds"] == ["face"] and data["more"] is False


def test_second_reviewer_is_blind_until_deciding_through_the_ui(seeded, client_for):
    sid = seeded.sightings["video"]
    rev1, rev2 = client_for("rev1"), client_for("rev2")
    response = rev1.post(f"/sightings/{sid}/decision", data={
        "csrf": rev1.csrf, "verdict": "confirm", **{f"cl_{k}": v for k, v in CHECKLIST.items()},
        "observation": "scar above the left eyebrow matches", "revealed": "1"}, follow_redirects=False)
    assert response.status_code == 303
    page = rev2.get(f"/sightings/{sid}").text
    assert "scar above the left eyebrow" not in page and "rev1" not in page and 'id="decisions-hidden"' in page
    data = rev2.get(f"/api/sightings/{sid}").json()
    assert data["decisions"] is None and data["can_decide"] is True and data["status"] == "pending"
    decided = rev2.post(f"/api/sightings/{sid}/decision", json={"verdict": "confirm", **evidence("same nose")},
                        headers={"X-CSRF-Token": rev2.csrf})
    assert decided.json() == {"decision_id": 2, "sighting": sid, "status": "confirmed"}
    after = rev2.get(f"/sightings/{sid}").text
    assert "scar above the left eyebrow" in after and "rev1" in after and 'id="decisions-hidden"' not in after
    again = rev2.post(f"/sightings/{sid}/decision", data={"csrf": rev2.csrf, "verdict": "reject"})
    assert again.status_code == 409


def test_admin_resolves_a_conflict_in_the_ui(seeded, client_for):
    sid = seeded.sightings["photo"]
    for name, given in (("rev1", {"verdict": "confirm", **evidence()}),
                        ("rev2", {"verdict": "reject", "observation": "ears differ"})):
        c = client_for(name)
        assert c.post(f"/api/sightings/{sid}/decision", json=given,
                      headers={"X-CSRF-Token": c.csrf}).json()["status"] in ("pending", "conflict")
    admin = client_for("admin")
    listing = admin.get("/admin/conflicts").text
    assert f'id="conflict-{sid}"' in listing and "rev1" in listing and "rev2" in listing
    done = admin.post(f"/admin/conflicts/{sid}", data={"csrf": admin.csrf, "verdict": "confirm",
                                                       "reason": "clear frontal frame at 3.5 s"})
    assert done.status_code == 200 and 'id="no-conflicts"' in done.text
    assert _status(seeded, sid) == "confirmed"


def test_views_and_decisions_are_audited_and_the_admin_page_verifies(seeded, client_for):
    sid = seeded.sightings["video"]
    rev1 = client_for("rev1")
    rev1.get(f"/sightings/{sid}")
    rev1.get(f"/api/sightings/{sid}")
    rev1.post(f"/sightings/{sid}/decision", data={"csrf": rev1.csrf, "verdict": "unsure"})
    entries = seeded.ws.audit.entries()
    views = [e for e in entries if e["action"] == "sighting.view" and e["object"] == f"sighting:{sid}"]
    assert len(views) >= 2 and {e["actor"] for e in views} == {"rev1"}
    assert any(e["action"] == "decision.record" and e["details"]["verdict"] == "unsure" for e in entries)
    audit_page = client_for("admin").get("/admin/audit").text
    assert "Hash chain intact" in audit_page or "Ланцюжок хешів цілий" in audit_page
    assert "decision.record" in audit_page


def test_the_comparison_page_shows_the_material_and_never_says_identified(seeded, client_for):
    page = client_for("rev1").get(f"/sightings/{seeded.sightings['video']}",
                                  headers={"Accept-Language": "en"}).text
    assert "<mark>Петренко</mark> <mark>Олександр</mark>" in page
    assert "https://t.me/rybar/123" in page and "Пленные рассказали о себе" in page
    assert f"/media/{seeded.video_sha}#t=0.0,7.0" in page and " muted" in page
    assert page.count('src="/references/') == 2 and page.count('src="/artifacts/') == 4
    assert "age 31" in page or "вік 31" in page
    assert "identified" not in page.lower().replace("not an identification", "")
