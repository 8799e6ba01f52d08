"""The face threshold follows the register: it tightens as persons with references are enrolled.

Rows are written directly (no model runs): persons, consents and references of the active
face model's space, and of another space that must not count.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from svidok.analyzers.face_spaces import active_space, space_of
from svidok.analyzers.model_thresholds import thresholds_for
from svidok.matching.face_matcher import active_face_threshold, enrolled_persons
from svidok.matching.persons import ConsentInput, PersonInput, add_consent, add_person
from svidok.matching.revocation import revoke_consent


def _enroll(ws, count: int, space, start: int = 0) -> list[int]:  # noqa: ANN001
    """`count` persons with an identification consent and one reference of `space`; their consents."""
    rng = np.random.default_rng(start)
    consents = []
    for i in range(start, start + count):
        person = add_person(ws, PersonInput(f"Особа {i}"))
        consent = add_consent(ws, ConsentInput(person, "Родина", "mother", "2026-01-01"))
        vector = rng.standard_normal(8).astype(np.float32)
        with ws.transaction():
            ws.db.insert("reference", {
                "person_id": person, "consent_id": consent, "photo_sha256": f"{i:064x}",
                "photo_path": f"references/{i}.jpg", "box": json.dumps([10, 90, 90, 10]),
                "embedding": vector.tobytes(), "model": space.model, "model_version": space.version,
                "created_at": "2026-01-01T00:00:00Z"})
        consents.append(consent)
    return consents


def test_the_threshold_tightens_as_persons_are_enrolled(fresh_workspace) -> None:
    ws = fresh_workspace
    space = active_space(ws.settings.analyze)
    assert active_face_threshold(ws).enrolled == 0
    _enroll(ws, 1, space)
    small = active_face_threshold(ws)
    assert (small.enrolled, small.source) == (1, "calibrated")
    assert small.threshold == thresholds_for(space.model, 1).threshold
    _enroll(ws, 299, space, start=1)
    large = active_face_threshold(ws)
    assert large.enrolled == 300 and large.threshold == thresholds_for(space.model, 300).threshold
    assert large.threshold < small.threshold                                 # more persons, more chances for a stranger


def test_only_searchable_persons_of_the_space_count(fresh_workspace) -> None:
    ws = fresh_workspace
    space = active_space(ws.settings.analyze)
    other = space_of("mobilefacenet") if space.model != "mobilefacenet" else space_of("fr_feature")
    consents = _enroll(ws, 3, space)
    _enroll(ws, 4, other, start=3)
    columns = ["person_id", "consent_id", "photo_sha256", "photo_path", "box", "embedding", "model",
               "model_version", "created_at"]
    with ws.transaction():                                                 # a second reference: still one person
        row = ws.conn.execute(f"SELECT {', '.join(columns)} FROM reference WHERE consent_id = ?",
                              (consents[0],)).fetchone()
        ws.db.insert("reference", dict(zip(columns, row)))
    assert (enrolled_persons(ws, space), enrolled_persons(ws, other)) == (3, 4)
    revoke_consent(ws, consents[1])
    assert enrolled_persons(ws, space) == active_face_threshold(ws).enrolled == 2


def test_the_setting_still_overrides_at_any_size(fresh_workspace) -> None:
    ws = fresh_workspace
    _enroll(ws, 70, active_space(ws.settings.analyze))
    ws.settings = dataclasses.replace(ws.settings, match=dataclasses.replace(ws.settings.match, face_threshold=0.77))
    got = active_face_threshold(ws)
    assert (got.threshold, got.source, got.enrolled) == (0.77, "match.face_threshold", 70)
