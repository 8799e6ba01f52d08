"""One footage, many posts, on the sighting page: every post and every capture of it with its own
URL, channel, time and note, how it was linked, and "not the same footage" for reviewers; the
family's reference photo reposted somewhere is shown as a lead, never as a sighting.

The footage group and the repost are made by the real pipeline (tests/review_ui/footage_seed.py)."""

from __future__ import annotations

import json

import pytest

from tests.review_ui.conftest import OBSERVATION, evidence
from tests.review_ui.footage_seed import FIRST, REPOST, SAME_BYTES, SEARCH, Footage, posted_at, seed_footage
from tests.review_ui.footage_seed import url as _url


@pytest.fixture
def footage(seeded, tmp_path) -> Footage:
    return seed_footage(seeded, tmp_path)


def test_the_json_twin_lists_every_post_with_each_capture_and_how_it_was_linked(footage, client_for):
    data = client_for("rev1").get(f"/api/sightings/{footage.sighting}").json()
    first, repost = data["posts"]
    assert (first["primary"], first["media_sha256"], first["link"]) == (True, footage.first, None)
    assert [(c["url"], c["channel"], c["note"]) for c in first["captures"]] == [(_url(FIRST), FIRST[0], FIRST[2])]
    assert (repost["primary"], repost["media_sha256"], repost["via_sha256"]) == (False, footage.repost, footage.first)
    assert [(c["url"], c["channel"], c["note"]) for c in repost["captures"]] == [
        (_url(REPOST), REPOST[0], REPOST[2]), (_url(SAME_BYTES), SAME_BYTES[0], SAME_BYTES[2])]
    assert [c["posted_at"] for c in repost["captures"]] == [posted_at(REPOST), posted_at(SAME_BYTES)]
    assert all(c["collected_at"] for c in repost["captures"])
    link = repost["link"]
    assert link["method"] == "image" and link["hops"] == 1 and 0 <= link["distance"] <= 16


def test_the_page_shows_each_capture_with_its_own_address_and_note(footage, client_for):
    page = client_for("rev1").get(f"/sightings/{footage.sighting}").text
    for post in (FIRST, REPOST, SAME_BYTES):
        assert _url(post) in page and post[2] in page
    # each capture's note is shown beside its own address, never another capture's
    for post in (FIRST, REPOST, SAME_BYTES):
        block = page[page.index(_url(post)):]
        assert block.index(post[2]) < min((block.index(p[2]) for p in (FIRST, REPOST, SAME_BYTES)
                                          if p != post and p[2] in block), default=len(block))
    assert page.count('class="footage-post"') == 2 and f"/posts/{footage.repost}/detach" in page
    assert f"/posts/{footage.first}/detach" not in page                  # the sighting's own post stays
    analyst = client_for("analyst").get(f"/sightings/{footage.sighting}").text
    assert _url(REPOST) in analyst and "/detach" not in analyst            # seen by analysts, not theirs to change


def test_not_the_same_footage_takes_the_post_off_and_is_audited(footage, client_for, seeded):
    path = f"/sightings/{footage.sighting}/posts/{footage.repost}/detach"
    rev1, analyst = client_for("rev1"), client_for("analyst")
    assert rev1.post(path, data={"reason": "другий кадр"}, follow_redirects=False).status_code == 403   # no CSRF
    assert analyst.post(path, data={"reason": "x", "csrf": analyst.csrf}).status_code == 403
    assert rev1.post(path, data={"reason": " ", "csrf": rev1.csrf}).status_code == 422
    response = rev1.post(path, data={"reason": "інша кімната, інший одяг", "csrf": rev1.csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(f"/sightings/{footage.sighting}")
    page = rev1.get(response.headers["location"]).text
    assert _url(REPOST) not in page and _url(SAME_BYTES) not in page and _url(FIRST) in page
    assert 'id="flash-detached"' in page
    assert [p["media_sha256"] for p in rev1.get(f"/api/sightings/{footage.sighting}").json()["posts"]] == [footage.first]
    ws = seeded.ws
    actor, obj, details = ws.conn.execute("SELECT actor, object, details FROM audit WHERE action = 'sighting.detach'"
                                          ).fetchone()
    assert (actor, obj) == ("rev1", f"sighting:{footage.sighting}")
    assert json.loads(details) == {"media_sha256": footage.repost, "via_sha256": footage.first,
                                   "reason": "інша кімната, інший одяг"}
    assert ws.conn.execute("SELECT rejected_by FROM footage_link WHERE media_sha256 = ? OR other_sha256 = ?",
                           (footage.repost, footage.repost)).fetchone()[0] == "rev1"
    again = rev1.post(f"/api/sightings/{footage.sighting}/posts/{footage.repost}/detach",
                      json={"reason": "again"}, headers={"X-CSRF-Token": rev1.csrf})
    assert again.status_code == 404 and "no post" in again.json()["error"]


def test_the_family_photo_reposted_is_a_lead_on_the_persons_sighting_page(footage, client_for, seeded):
    sid = seeded.sightings["video"]                                          # another sighting of the same person
    page = client_for("rev1").get(f"/sightings/{sid}").text
    lead = page[page.index('id="person-reposts"'):]
    assert "Тут повторно опублікували фото від родини" in lead and _url(SEARCH) in lead and SEARCH[2] in lead
    [repost] = client_for("rev1").get(f"/api/sightings/{sid}").json()["reposts"]
    assert (repost["media_sha256"], repost["person_id"]) == (footage.family_photo, seeded.person)
    assert [c["url"] for c in repost["captures"]] == [_url(SEARCH)]
    # a lead, never a sighting of him
    assert seeded.ws.conn.execute("SELECT COUNT(*) FROM sighting WHERE media_sha256 = ?",
                                  (footage.family_photo,)).fetchone()[0] == 0
    # the other person's sighting shows no lead of his photos; analysts (no reference photos) see none
    other = client_for("rev1").get(f"/api/sightings/{seeded.sightings['other']}").json()
    assert other["reposts"] == []
    analyst = client_for("analyst")
    assert analyst.get(f"/api/sightings/{sid}").json()["reposts"] == []
    assert _url(SEARCH) not in analyst.get(f"/sightings/{sid}").text
    assert analyst.get("/reposts").status_code == 403


def test_the_reposts_page_lists_every_lead_and_is_audited(footage, client_for, seeded):
    officer = client_for("officer")
    client = client_for("rev2")
    client.post("/settings", data={"csrf": client.csrf, "lang": "en", "shield": "on"})
    page = client.get("/reposts").text
    assert "The family&#39;s photo was reposted here" in page and _url(SEARCH) in page
    assert "Петренко Олександр Іванович" in page
    data = officer.get(f"/api/reposts?person={seeded.person}").json()
    assert [r["media_sha256"] for r in data["reposts"]] == [footage.family_photo]
    assert officer.get(f"/api/reposts?person={seeded.other_person}").json()["reposts"] == []
    viewed = seeded.ws.conn.execute("SELECT actor FROM audit WHERE action = 'reposts.view' ORDER BY seq").fetchall()
    assert [r[0] for r in viewed] == ["rev2", "officer", "officer"]


def test_an_admin_stays_blind_on_a_footage_sighting(footage, client_for):
    sid = footage.sighting
    given = {"verdict": "confirm", **evidence(OBSERVATION)}
    rev1 = client_for("rev1")
    assert rev1.post(f"/api/sightings/{sid}/decision", json=given,
                     headers={"X-CSRF-Token": rev1.csrf}).json()["status"] == "pending"
    admin = client_for("admin")
    data = admin.get(f"/api/sightings/{sid}").json()
    assert data["decisions"] is None and len(data["posts"]) == 2 and data["reposts"]
    page = admin.get(f"/sightings/{sid}").text
    assert OBSERVATION not in page and "rev1" not in page and 'id="decisions-hidden"' in page
    assert _url(REPOST) in page and _url(SEARCH) in page
