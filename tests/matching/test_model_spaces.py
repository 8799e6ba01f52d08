"""Embedding spaces never mix: a reference is compared only with faces of its own face model.

The rows are written directly (no model runs), with vectors chosen so that comparing across
models would raise a sighting (a face of another model holding the very reference vector) or
fail on the vectors' lengths.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from svidok.analyzers.face_spaces import FaceSpace, space_of
from svidok.analyzers.faces import FACE_MODEL, FACE_MODEL_VERSION
from svidok.matching.face_matcher import enrolled_persons, face_threshold, ranked_search
from svidok.matching.persons import ConsentInput, PersonInput, add_consent, add_person
from svidok.matching.sightings import list_sightings, run_match
from svidok.matching.vector_index import cache_dir, load_face_index

DLIB = FaceSpace(FACE_MODEL, FACE_MODEL_VERSION)
DLIB_OLDER = FaceSpace(FACE_MODEL, "0.0-older")             # same length, another space all the same
MOBILE = space_of("mobilefacenet")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal(n).astype(np.float32)
    return v / np.linalg.norm(v)


def _media(ws, name: str) -> str:  # noqa: ANN001
    sha = name * 64
    ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, first_seen, path) VALUES (?, 1, 'image/jpeg', 'jpg',"
                    " 'now', ?)", (sha[:64], f"media/{name}.jpg"))
    return sha[:64]


def _face(ws, media: str, space: FaceSpace, vector: np.ndarray) -> int:  # noqa: ANN001
    return ws.db.insert("face", {"media_sha256": media, "box": json.dumps([10, 90, 90, 10]), "quality": "{}",
                                 "embedding": vector.astype(np.float32).tobytes(), "model": space.model,
                                 "model_version": space.version})


def _reference(ws, person: int, consent: int, space: FaceSpace, vector: np.ndarray) -> int:  # noqa: ANN001
    return ws.db.insert("reference", {
        "person_id": person, "consent_id": consent, "photo_sha256": "r" * 64, "photo_path": "references/r.jpg",
        "box": json.dumps([10, 90, 90, 10]), "embedding": vector.astype(np.float32).tobytes(),
        "model": space.model, "model_version": space.version, "created_at": "2026-01-01T00:00:00Z"})


def _active(ws, face_model: str) -> None:  # noqa: ANN001
    ws.settings = dataclasses.replace(ws.settings, analyze=dataclasses.replace(ws.settings.analyze,
                                                                                face_model=face_model))


@pytest.fixture
def mixed(fresh_workspace):  # noqa: ANN001, ANN201
    """A person with a dlib reference; a face of an older dlib and a MobileFaceNet face that would
    both match it if compared across spaces; no face of the active model yet."""
    ws = fresh_workspace
    rng = np.random.default_rng(5)
    person = add_person(ws, PersonInput("Олена Шевченко"))
    consent = add_consent(ws, ConsentInput(person, "Ірина Шевченко", "sister", "2026-01-01"))
    dlib_vector = rng.standard_normal(128).astype(np.float32) * 0.1
    with ws.transaction():
        reference = _reference(ws, person, consent, DLIB, dlib_vector)
        older = _face(ws, _media(ws, "a"), DLIB_OLDER, dlib_vector)              # distance 0 if compared
        mobile = _face(ws, _media(ws, "b"), MOBILE, np.concatenate([dlib_vector, np.zeros(64, np.float32)]))
    return ws, rng, person, consent, reference, dlib_vector, {"older": older, "mobile": mobile}


def test_faces_of_other_models_never_meet_a_reference(mixed) -> None:
    ws, rng, person, consent, reference, dlib_vector, faces = mixed
    _active(ws, "dlib")
    assert run_match(ws).new_sightings == 0                   # the twin vector lies in another space
    assert ranked_search(ws, reference, 10) == []
    assert load_face_index(ws, DLIB).ids.tolist() == []

    with ws.transaction():
        same = _face(ws, _media(ws, "c"), DLIB, dlib_vector + 0.01)
    assert run_match(ws).new_sightings == 1
    (sighting,) = list_sightings(ws)
    face_reason = next(r for r in sighting.reasons if r["kind"] == "face")
    assert sighting.media_sha256 == "c" * 64 and face_reason["face_id"] == same
    assert face_reason["model"] == DLIB.label and sighting.model_versions["face_model"] == DLIB.label
    assert [r["face_id"] for r in ranked_search(ws, reference, 10)] == [same]


def test_each_model_matches_in_its_own_space_with_its_own_threshold(mixed) -> None:
    ws, rng, person, consent, reference, dlib_vector, faces = mixed
    with ws.transaction():
        _face(ws, _media(ws, "c"), DLIB, dlib_vector + 0.01)                 # a dlib face: not for MobileFaceNet
    _active(ws, "mobilefacenet")
    assert run_match(ws).new_sightings == 0                   # no MobileFaceNet reference yet

    mobile_vector = _unit(rng, 192)
    with ws.transaction():
        mobile_reference = _reference(ws, person, consent, MOBILE, mobile_vector)
        near = _face(ws, _media(ws, "e"), MOBILE, mobile_vector + 0.02 * _unit(rng, 192))
    assert run_match(ws).new_sightings == 1
    (sighting,) = list_sightings(ws)
    face_reason = next(r for r in sighting.reasons if r["kind"] == "face")
    assert sighting.media_sha256 == "e" * 64 and face_reason["face_id"] == near
    assert face_reason["model"] == MOBILE.label
    assert enrolled_persons(ws, MOBILE) == enrolled_persons(ws, DLIB) == 1 == face_reason["enrolled"]
    assert face_reason["threshold"] == face_threshold(ws.settings.match, MOBILE, 1).threshold
    assert sighting.reference_ids == [mobile_reference]
    assert [r["face_id"] for r in ranked_search(ws, mobile_reference, 10)][:1] == [near]
    assert {r["model"] for r in ranked_search(ws, mobile_reference, 10)} == {MOBILE.label}
    assert {r["face_id"] for r in ranked_search(ws, reference, 10)} == set(load_face_index(ws, DLIB).ids.tolist())

    with ws.transaction():
        _face(ws, _media(ws, "d"), MOBILE, dlib_vector)                       # a 128-d vector labelled MobileFaceNet
    with pytest.raises(ValueError, match="different lengths"):                # refused, never compared
        run_match(ws)


def test_one_index_per_space(mixed) -> None:
    ws, rng, *_ = mixed
    mobile, older = load_face_index(ws, MOBILE), load_face_index(ws, DLIB_OLDER)
    assert (mobile.vectors.shape[1], older.vectors.shape[1]) == (192, 128)
    assert len(mobile) == len(older) == 1
    assert len(list(cache_dir(ws).glob("faces-*.npy"))) == 4                 # two files per space, side by side
    with ws.transaction():
        _face(ws, _media(ws, "f"), MOBILE, _unit(rng, 192))
    assert len(load_face_index(ws, MOBILE)) == 2 and len(load_face_index(ws, DLIB_OLDER)) == 1
    assert len(list(cache_dir(ws).glob("faces-*.npy"))) == 4                 # the stale MobileFaceNet one replaced


def test_the_setting_overrides_the_calibrated_threshold(fresh_workspace) -> None:
    from svidok.analyzers.model_thresholds import thresholds_for

    settings = fresh_workspace.settings.match
    assert settings.face_threshold == 0.0
    calibrated = thresholds_for(MOBILE.model, 1)
    assert face_threshold(settings, MOBILE, 1).threshold == calibrated.threshold
    dlib = face_threshold(settings, DLIB, 1).threshold
    assert dlib == thresholds_for(DLIB.model, 1).threshold != calibrated.threshold
    for enrolled in (1, 5000):
        override = face_threshold(dataclasses.replace(settings, face_threshold=0.9), MOBILE, enrolled)
        assert (override.threshold, override.source, override.enrolled) == (0.9, "match.face_threshold", enrolled)
