"""An evidence package says where the same footage was posted: a confirmed sighting's record lists
every post of its footage (each media's SHA-256, how it was linked, each capture's URL, channel and
times), and the summary shows them, so a prosecutor sees one footage posted at N places."""

from __future__ import annotations

import json

import pytest

from svidok.cases.case import attach, open_case
from svidok.cases.decisions import record_decision
from svidok.cases.export import export_case
from svidok.cases.users import get_user
from svidok.matching.footage import detach_post
from tests.cases.conftest import CHECKLIST
from tests.review_ui.footage_seed import FIRST, REPOST, SAME_BYTES, posted_at, seed_footage, url


@pytest.fixture
def footage_case(seeded, tmp_path):
    """The footage sighting (a photo and its repost by two more channels) confirmed and in a case."""
    footage = seed_footage(seeded, tmp_path)
    ws = seeded.ws
    for name in ("rev1", "rev2"):
        outcome = record_decision(ws, footage.sighting, get_user(ws, seeded.users[name]), "confirm", CHECKLIST,
                                  f"{name}: the same ear shape", revealed=True)
    assert outcome.status == "confirmed"
    case, _ = open_case(ws, seeded.person, None, "officer")
    attach(ws, case, footage.sighting, None, "officer")
    return ws, case, footage


def _sighting_record(bag, sid: int) -> dict:
    doc = json.loads((bag / "data" / "case.json").read_text(encoding="utf-8"))
    [record] = [s for s in doc["sightings"] if s["id"] == sid]
    return record


def test_the_package_lists_every_post_of_the_footage(footage_case, tmp_path):
    ws, case, footage = footage_case
    result = export_case(ws, case, "court", tmp_path / "out", "officer")
    record = _sighting_record(result.bag, footage.sighting)
    assert record["posted_at_places"] == 3
    assert [(p["media_sha256"], p["primary"]) for p in record["posts"]] == [(footage.first, True),
                                                                          (footage.repost, False)]
    first, repost = record["posts"]
    assert [(c["url"], c["channel"], c["posted_at"]) for c in first["captures"]] == [
        (url(FIRST), FIRST[0], posted_at(FIRST))]
    assert [(c["url"], c["channel"], c["posted_at"], c["text"]) for c in repost["captures"]] == [
        (url(REPOST), REPOST[0], posted_at(REPOST), REPOST[2]), (url(SAME_BYTES), SAME_BYTES[0],
                                                                 posted_at(SAME_BYTES), SAME_BYTES[2])]
    assert repost["via_sha256"] == footage.first and repost["link"]["method"] == "image"
    assert repost["link"]["hops"] == 1 and repost["link"]["distance"] >= 0
    summary = (result.bag / "data" / "summary.html").read_text(encoding="utf-8")
    assert "The same footage was posted here" in summary and "3 місць публікації" in summary
    for post in (FIRST, REPOST, SAME_BYTES):
        assert url(post) in summary
    assert footage.repost in summary
    # the chain of custody holds the audit entries archiving each capture, and the one attaching the repost
    custody = json.loads((result.bag / "data" / "custody.json").read_text(encoding="utf-8"))
    archived = {e["object"] for e in custody["entries"] if e["action"].startswith("archive.item.")}
    assert {f"item:{c['item_id']}" for p in record["posts"] for c in p["captures"]} <= archived
    assert any(e["action"] == "sighting.attach" and e["details"]["media_sha256"] == footage.repost
               for e in custody["entries"])


def test_a_post_taken_off_the_footage_is_not_in_the_next_package(footage_case, tmp_path):
    ws, case, footage = footage_case
    assert detach_post(ws, footage.sighting, footage.repost, "rev1", "another room")
    result = export_case(ws, case, "court", tmp_path / "out", "officer")
    record = _sighting_record(result.bag, footage.sighting)
    assert [p["media_sha256"] for p in record["posts"]] == [footage.first] and record["posted_at_places"] == 1
    summary = (result.bag / "data" / "summary.html").read_text(encoding="utf-8")
    assert url(REPOST) not in summary and "The same footage was posted here" not in summary
