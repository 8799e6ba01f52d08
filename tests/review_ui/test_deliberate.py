"""Review decisions that hold up, through the UI's form and JSON API: "same person" refused without
its evidence, decisions amended with the previous value audited, nothing left pending for ever,
and the queue saying how many sightings wait on whom."""

from __future__ import annotations

from svidok.cases.sightings import box_in_crop
from tests.review_ui.conftest import CHECKLIST, evidence


def _post(client, sid: int, **given):
    return client.post(f"/api/sightings/{sid}/decision", json=given, headers={"X-CSRF-Token": client.csrf})


def _decisions(seeded) -> int:
    return seeded.ws.conn.execute("SELECT COUNT(*) FROM decision").fetchone()[0]


def test_one_keystroke_same_person_is_refused_by_the_form_and_the_api(seeded, client_for):
    sid, rev1 = seeded.sightings["video"], client_for("rev1")
    # what pressing "c" used to send: the verdict, empty checklist and observation, images still blurred
    form = rev1.post(f"/sightings/{sid}/decision", data={"csrf": rev1.csrf, "verdict": "confirm", "observation": "",
                                                         **{f"cl_{k}": "" for k in CHECKLIST}, "revealed": "0"})
    assert form.status_code == 422 and 'id="missing"' in form.text
    assert [n for n in ("checklist", "similar", "observation", "revealed") if f'data-need="{n}"' in form.text] == \
        ["checklist", "similar", "observation", "revealed"]
    refused = _post(rev1, sid, verdict="confirm")
    assert refused.status_code == 422
    assert refused.json()["missing"] == ["checklist", "similar", "observation", "revealed"]
    assert "observation" in refused.json()["error"]
    unrevealed = _post(rev1, sid, verdict="confirm", **{**evidence(), "revealed": False})
    assert unrevealed.status_code == 422 and unrevealed.json()["missing"] == ["revealed"]
    no_reason = _post(rev1, sid, verdict="reject", observation=" ")
    assert no_reason.status_code == 422 and no_reason.json()["missing"] == ["reason"]
    assert _decisions(seeded) == 0
    assert _post(rev1, sid, verdict="confirm", **evidence()).json()["status"] == "pending"
    [row] = seeded.ws.conn.execute("SELECT verdict, revealed, observation FROM decision").fetchall()
    assert row == ("confirm", 1, "scar above the left eyebrow matches")


def test_a_reviewer_amends_their_own_decision_until_the_sighting_is_decided(seeded, client_for):
    sid, rev1, rev2 = seeded.sightings["video"], client_for("rev1"), client_for("rev2")
    assert _post(rev1, sid, verdict="unsure").json()["status"] == "pending"
    data = rev1.get(f"/api/sightings/{sid}").json()
    assert data["own_decision"]["verdict"] == "unsure" and data["can_amend"] and not data["can_decide"]
    assert 'name="amend" value="1"' in rev1.get(f"/sightings/{sid}").text
    again = _post(rev1, sid, verdict="confirm", **evidence())
    assert again.status_code == 409 and "amend it instead" in again.json()["error"]
    assert _post(rev2, sid, verdict="reject", observation="x", amend=True).status_code == 409    # nothing to amend
    assert _post(rev1, sid, verdict="confirm", amend=True).status_code == 422                    # same rules
    amended = _post(rev1, sid, verdict="confirm", amend=True, **evidence())
    assert amended.status_code == 200 and amended.json()["status"] == "pending"
    [(decision_id, verdict, amended_at)] = seeded.ws.conn.execute(
        "SELECT id, verdict, amended_at FROM decision").fetchall()
    assert verdict == "confirm" and amended_at
    entry = seeded.ws.audit.entries(limit=1)[0]
    assert (entry["action"], entry["object"], entry["actor"]) == ("decision.amend", f"decision:{decision_id}", "rev1")
    assert entry["details"]["previous"] == {"verdict": "unsure", "checklist": {}, "observation": "", "revealed": False}
    assert entry["details"]["verdict"] == "confirm" and entry["details"]["sighting"] == sid
    assert _post(rev2, sid, verdict="confirm", **evidence()).json()["status"] == "confirmed"
    late = _post(rev1, sid, verdict="reject", observation="on second thoughts", amend=True)
    assert late.status_code == 409 and "no more decisions or amendments" in late.json()["error"]
    assert seeded.ws.audit.verify().ok


def test_amending_through_the_form_returns_to_the_sighting(seeded, client_for):
    sid, rev1 = seeded.sightings["photo"], client_for("rev1")
    _post(rev1, sid, verdict="reject", observation="ears differ")
    response = rev1.post(f"/sightings/{sid}/decision", data={
        "csrf": rev1.csrf, "amend": "1", "verdict": "confirm", "observation": "ears match after all",
        "revealed": "1", **{f"cl_{k}": v for k, v in CHECKLIST.items()}}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/sightings/{sid}?done={sid}"
    page = rev1.get(f"/sightings/{sid}", headers={"Accept-Language": "en"}).text
    assert 'id="own-decision"' in page and "ears match after all" in page


def test_two_unsure_go_to_the_admins_conflicts_with_the_reason(seeded, client_for):
    sid = seeded.sightings["photo"]
    assert _post(client_for("rev1"), sid, verdict="unsure").json()["status"] == "pending"
    second = _post(client_for("rev2"), sid, verdict="unsure").json()
    assert (second["status"], second["reason"]) == ("conflict", "no-result")
    admin = client_for("admin")
    listing = admin.get("/admin/conflicts", headers={"Accept-Language": "en"}).text
    assert f'id="conflict-{sid}"' in listing and 'data-reason="no-result"' in listing
    assert 'id="no-conflicts"' not in listing
    assert [c["reason"] for c in admin.get("/admin/conflicts?format=json").json()["conflicts"]] == ["no-result"]
    assert admin.get(f"/api/sightings/{sid}").json()["conflict_reason"] == "no-result"
    done = admin.post(f"/admin/conflicts/{sid}", data={"csrf": admin.csrf, "verdict": "reject",
                                                       "reason": "face never visible"})
    assert done.status_code == 200 and 'id="no-conflicts"' in done.text


def test_the_queue_says_how_many_sightings_wait_on_whom(seeded, client_for):
    s, rev1, rev2, rev3 = seeded.sightings, client_for("rev1"), client_for("rev2"), client_for("rev3")
    _post(rev1, s["video"], verdict="confirm", **evidence())
    _post(rev2, s["photo"], verdict="unsure")
    _post(rev3, s["photo"], verdict="unsure")                                       # -> conflict
    assert rev1.get("/api/queue").json()["summary"] == {
        "first_review": 2, "more_reviews": 1, "yours_open": 1, "with_admin": 1}
    assert rev2.get("/api/queue").json()["summary"]["yours_open"] == 0
    page = rev1.get("/queue").text
    assert 'id="wait-first">2<' in page and 'id="wait-more">1<' in page and 'id="wait-admin">1<' in page
    mine = rev1.get("/api/queue?mine=1").json()
    assert [r["id"] for r in mine["sightings"]] == [s["video"]]
    assert s["video"] not in [r["id"] for r in rev1.get("/api/queue").json()["sightings"]]


def test_the_comparison_page_puts_faces_at_one_scale_and_the_decision_before_the_footage(seeded, client_for):
    page = client_for("rev1").get(f"/sightings/{seeded.sightings['video']}").text
    assert page.count('data-box="') == 4                        # 2 reference photos, 2 face crops
    assert 'id="reveal-sharp"' in page and 'id="reveal-colour"' in page and 'id="zoom"' in page
    assert page.index('id="decide"') < page.index('id="clip"')
    assert 'id="confirm-step"' in page and 'data-key="c" id="confirm-open"' in page
    assert 'data-key="c" id="confirm"' not in page              # no single key records "same person"
    assert box_in_crop([5, 40, 40, 5]) == [5, 40, 40, 5]        # clipped at the frame's edge
    assert box_in_crop([100, 300, 300, 100]) == [60, 260, 260, 60]


def test_sightings_an_older_svidok_left_pending_for_ever_are_settled_when_the_ui_starts(seeded):
    from svidok.review_ui.app import create_app

    ws, sid = seeded.ws, seeded.sightings["photo"]
    for name in ("rev1", "rev2"):                   # as the old rule left them: two unsure, still pending
        ws.conn.execute("INSERT INTO decision (sighting_id, reviewer_id, verdict, at) VALUES (?, ?, 'unsure', ?)",
                        (sid, seeded.users[name], "2026-01-01T00:00:00Z"))
    apps = [create_app(ws)]
    try:
        assert ws.conn.execute("SELECT status, conflict_reason FROM sighting WHERE id = ?", (sid,)).fetchone() == \
            ("conflict", "no-result")
        entry = ws.audit.entries(limit=1)[0]
        assert (entry["action"], entry["object"], entry["details"]["reason"]) == \
            ("sighting.settle", f"sighting:{sid}", "no-result")
        apps.append(create_app(ws))
        assert ws.audit.entries(limit=1)[0]["seq"] == entry["seq"]                  # settled once only
    finally:
        for app in apps:
            app.state.audit_writer.close()
            app.state.db.close()
