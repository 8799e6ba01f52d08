"""Fixtures for evidence packages: the review UI's seeded workspace with a confirmed sighting in
a case, and a local RFC 3161 time-stamping authority (`openssl ts -reply` behind HTTP on 127.0.0.1)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from svidok.cases.case import add_note, attach, open_case
from svidok.cases.decisions import record_decision
from svidok.cases.users import get_user
from tests.cases.local_tsa import LocalTsa, local_tsa
from tests.review_ui.conftest import Seed, quick_argon2, seed_workspace  # noqa: F401 - fixture re-exported

__all__ = ["LocalTsa"]
CHECKLIST = {"face_shape": "similar", "hairline": "similar", "eyebrows": "similar", "eyes": "similar",
             "nose": "not-visible", "ears": "similar", "mouth": "similar", "marks": "similar"}


@dataclass
class CaseSeed:
    seed: Seed
    case: int


@pytest.fixture
def seeded(fresh_workspace) -> Seed:
    return seed_workspace(fresh_workspace)


@pytest.fixture
def case_ready(seeded) -> CaseSeed:
    """Two reviewers confirmed the video sighting; it is attached to the person's case, with a note."""
    ws, sid = seeded.ws, seeded.sightings["video"]
    for name in ("rev1", "rev2"):
        record_decision(ws, sid, get_user(ws, seeded.users[name]), "confirm", CHECKLIST,
                        f"{name}: шрам над лівою бровою / scar above the left eyebrow", revealed=True)
    case, _ = open_case(ws, seeded.person, None, "officer")
    attach(ws, case, sid, None, "officer")
    add_note(ws, case, "Родину повідомлено / family informed", "officer")
    return CaseSeed(seeded, case)


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    """A throwaway CA and TSA certificate, and `openssl ts -reply` served on 127.0.0.1."""
    with local_tsa(tmp_path_factory.mktemp("tsa")) as running:
        yield running
