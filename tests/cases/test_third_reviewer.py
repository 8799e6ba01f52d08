"""A third reviewer: the setting review.extra_reviews, read from the workspace's svidok.toml as
`svidok serve` reads it, decides what a confirmation (or rejection) and an "unsure" lead to.

With 0 (the default) they go to the admin's Conflicts list; with 1 the sighting stays in the
queue until a third reviewer decides, so it is confirmed only once three reviewers have decided
and two of them said "same person". Two "unsure" still go to the admin."""

from __future__ import annotations

import pytest

from svidok.cases.review_rules import ReviewRule, rule_for
from svidok.foundation.settings import load_settings
from svidok.foundation.workspace import Workspace
from tests.review_ui import conftest as review_ui
from tests.review_ui.conftest import OBSERVATION, evidence

client_for = review_ui.client_for          # the fixture: a logged-in client of the app below per user name


@pytest.fixture
def extra_reviews() -> int:
    return 1


@pytest.fixture
def app(seeded, extra_reviews):
    """The review UI over the seeded workspace, opened afresh with review.extra_reviews in its svidok.toml."""
    from svidok.review_ui.app import create_app

    (seeded.ws.root / "svidok.toml").write_text(f"[review]\nextra_reviews = {extra_reviews}\n", encoding="utf-8")
    ws = Workspace.open(seeded.ws.root)
    assert ws.settings.review.extra_reviews == extra_reviews
    app = create_app(ws)
    yield app
    app.state.audit_writer.close()
    app.state.db.close()
    ws.close()


def _decide(client, sid: int, verdict: str) -> dict:
    given = {"verdict": verdict, **(evidence(OBSERVATION) if verdict == "confirm" else {"observation": "not sure"})}
    response = client.post(f"/api/sightings/{sid}/decision", json=given, headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200, response.text
    return response.json()


def _queue(client) -> list[int]:
    return [row["id"] for row in client.get("/api/queue").json()["sightings"]]


def test_with_a_third_reviewer_a_confirmation_and_an_unsure_wait_for_a_third(seeded, client_for):
    sid = seeded.sightings["video"]
    assert _decide(client_for("rev1"), sid, "confirm")["status"] == "pending"
    assert _decide(client_for("rev2"), sid, "unsure")["status"] == "pending"        # not sent to the admin
    rev3 = client_for("rev3")
    assert sid in _queue(rev3)
    assert client_for("admin").get(f"/api/sightings/{sid}").json()["status"] == "pending"
    assert _decide(rev3, sid, "confirm")["status"] == "confirmed"                 # three reviewers, two agreeing
    assert sid not in _queue(client_for("admin"))


def test_with_a_third_reviewer_two_agreeing_reviewers_still_confirm(seeded, client_for):
    sid = seeded.sightings["photo"]
    _decide(client_for("rev1"), sid, "confirm")
    assert _decide(client_for("rev2"), sid, "confirm")["status"] == "confirmed"


def test_with_a_third_reviewer_two_unsure_still_go_to_the_admin(seeded, client_for):
    sid = seeded.sightings["photo"]
    _decide(client_for("rev1"), sid, "unsure")
    outcome = _decide(client_for("rev2"), sid, "unsure")
    assert (outcome["status"], outcome["reason"]) == ("conflict", "no-result")


def test_with_a_third_reviewer_a_third_rejection_rejects(seeded, client_for):
    sid = seeded.sightings["low"]
    _decide(client_for("rev1"), sid, "unsure")
    assert _decide(client_for("rev2"), sid, "reject")["status"] == "pending"
    assert _decide(client_for("rev3"), sid, "reject")["status"] == "rejected"


@pytest.mark.parametrize("extra_reviews", [0])
def test_without_a_third_reviewer_a_confirmation_and_an_unsure_go_to_the_admin(seeded, client_for):
    sid = seeded.sightings["video"]
    _decide(client_for("rev1"), sid, "confirm")
    outcome = _decide(client_for("rev2"), sid, "unsure")
    assert (outcome["status"], outcome["reason"]) == ("conflict", "no-result")
    assert sid not in _queue(client_for("rev3"))
    assert f'id="conflict-{sid}"' in client_for("admin").get("/admin/conflicts").text


def test_the_setting_is_read_from_the_environment_and_checked(tmp_path):
    settings = load_settings(tmp_path, {"SVIDOK_CONFIG": "/nonexistent", "SVIDOK_REVIEW_EXTRA_REVIEWS": "1"})
    assert rule_for(settings.review) == ReviewRule(2, 2, 1)
    assert rule_for(load_settings(tmp_path, {"SVIDOK_CONFIG": "/nonexistent"}).review).extra_reviews == 0
    with pytest.raises(ValueError, match="extra_reviews 0 or more"):
        ReviewRule(2, 2, -1)
