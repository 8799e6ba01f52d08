"""Admins decide blind too: no other reviewer's verdict or observation reaches an admin on a
pending sighting — not on its page, its JSON twin, nor the audit log, before deciding nor after
(a decision may be amended while the sighting is pending) — while a conflict (where the blind
phase is over) shows the admin both sides to arbitrate."""

from __future__ import annotations

import dataclasses

from tests.review_ui.conftest import OBSERVATION, evidence


def _decide(client, sid: int, verdict: str, observation: str = ""):
    given = {"verdict": verdict, **(evidence(observation) if verdict == "confirm" else {"observation": observation})}
    response = client.post(f"/api/sightings/{sid}/decision", json=given, headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200, response.text
    return response.json()


def test_admin_is_blind_until_deciding(seeded, client_for):
    sid = seeded.sightings["video"]
    _decide(client_for("rev1"), sid, "confirm", OBSERVATION)
    admin = client_for("admin")
    data = admin.get(f"/api/sightings/{sid}").json()
    assert data["decisions"] is None and data["can_decide"] is True and data["status"] == "pending"
    page = admin.get(f"/sightings/{sid}").text
    assert OBSERVATION not in page and "rev1" not in page and 'id="decisions-hidden"' in page
    _decide(admin, sid, "confirm", "same nose")
    after = admin.get(f"/api/sightings/{sid}").json()
    assert [d["reviewer"] for d in after["decisions"]] == ["rev1", "admin"]
    assert after["decisions"][0]["observation"] == OBSERVATION


def test_the_audit_log_does_not_tell_an_undecided_admin_a_pending_verdict(seeded, client_for):
    sid = seeded.sightings["video"]
    _decide(client_for("rev1"), sid, "reject", OBSERVATION)
    admin = client_for("admin")
    page = admin.get("/admin/audit").text
    assert "decision.record" in page and OBSERVATION not in page and "reject" not in page
    entries = admin.get("/admin/audit?format=json").json()["entries"]
    record = next(e for e in entries if e["action"] == "decision.record")
    assert record["object"] == f"sighting:{sid}" and "verdict" not in record["details"]
    assert _decide(admin, sid, "unsure")["status"] == "conflict"          # two decisions, no result
    assert OBSERVATION in admin.get("/admin/audit").text


def test_an_admin_who_decided_stays_blind_while_the_sighting_is_pending(seeded, client_for):
    ws, sid = seeded.ws, seeded.sightings["video"]
    ws.settings = dataclasses.replace(ws.settings, review=dataclasses.replace(ws.settings.review, rejections_needed=3))
    _decide(client_for("rev1"), sid, "reject", OBSERVATION)
    admin = client_for("admin")
    assert _decide(admin, sid, "reject", "different ears")["status"] == "pending"
    data = admin.get(f"/api/sightings/{sid}").json()
    assert data["decisions"] is None and data["own_decision"]["observation"] == "different ears"
    assert data["can_amend"] is True and data["can_decide"] is False
    page = admin.get(f"/sightings/{sid}").text
    assert OBSERVATION not in page and 'id="decisions-hidden"' in page and "different ears" in page
    audit = admin.get("/admin/audit").text
    assert OBSERVATION not in audit and "different ears" in audit                 # their own entry only


def test_a_conflict_shows_the_admin_both_sides_to_resolve(seeded, client_for):
    sid = seeded.sightings["photo"]
    _decide(client_for("rev1"), sid, "confirm", OBSERVATION)
    assert _decide(client_for("rev2"), sid, "reject", "different ear shape")["status"] == "conflict"
    admin = client_for("admin")
    listing = admin.get("/admin/conflicts").text
    assert OBSERVATION in listing and "different ear shape" in listing
    data = admin.get(f"/api/sightings/{sid}").json()
    assert [d["verdict"] for d in data["decisions"]] == ["confirm", "reject"] and data["can_decide"] is False
    assert OBSERVATION in admin.get("/admin/audit").text
