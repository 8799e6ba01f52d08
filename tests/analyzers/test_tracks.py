"""Linking faces across frames into tracks."""

from __future__ import annotations

import numpy as np
import pytest

from svidok.analyzers.faces import DetectedFace, FaceQuality
from svidok.analyzers.tracks import TrackedFace, iou, link_tracks, representative_embedding


def person(seed: int) -> np.ndarray:
    """A random 128-d vector of typical dlib length (about 1): one identity."""
    vector = np.random.default_rng(seed).normal(size=128)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def face(identity: np.ndarray, box: tuple[int, int, int, int], score: float = 0.5, wobble: int = 0) -> DetectedFace:
    noise = np.random.default_rng(wobble).normal(scale=0.01, size=128).astype(np.float32)
    return DetectedFace(box, identity + noise, FaceQuality(box[2] - box[0], 100.0, 1.0, score))


def test_iou_of_boxes() -> None:
    assert iou((0, 10, 10, 0), (0, 10, 10, 0)) == 1.0
    assert iou((0, 10, 10, 0), (0, 20, 10, 10)) == 0.0
    assert iou((0, 10, 10, 0), (0, 15, 10, 5)) == pytest.approx(1 / 3)


def test_one_moving_person_is_one_track_with_best_frames() -> None:
    alice = person(1)
    frames = []
    for i in range(10):
        box = (100, 200 + 5 * i, 200, 100 + 5 * i)
        frames.append((i * 0.5, [TrackedFace(i, i * 0.5, face(alice, box, score=0.1 * i, wobble=i))]))
    tracks = link_tracks(frames)
    assert len(tracks) == 1
    assert tracks[0].start_s == 0.0 and tracks[0].end_s == 4.5
    assert [m.key for m in tracks[0].best(3)] == [9, 8, 7]
    assert float(np.linalg.norm(tracks[0].embedding - alice)) < 0.05


def test_two_people_side_by_side_stay_apart_and_one_returns_after_a_cut() -> None:
    alice, bob = person(1), person(2)
    frames = []
    key = 0
    for i in range(6):
        members = []
        for identity, x in ((alice, 0), (bob, 300)):
            members.append(TrackedFace(key, float(i), face(identity, (50, x + 100, 150, x), wobble=key)))
            key += 1
        frames.append((float(i), members))
    # after a cut, Alice is elsewhere in the picture: linked by embedding alone
    frames.append((10.0, [TrackedFace(key, 10.0, face(alice, (300, 700, 400, 600), wobble=key))]))
    tracks = link_tracks(frames)
    assert len(tracks) == 2
    sizes = sorted(len(t.members) for t in tracks)
    assert sizes == [6, 7]
    alice_track = next(t for t in tracks if len(t.members) == 7)
    assert float(np.linalg.norm(alice_track.embedding - alice)) < 0.05
    assert all(m.key % 2 == 0 for m in alice_track.members)


def test_overlapping_box_with_a_different_face_starts_a_new_track() -> None:
    alice, bob = person(1), person(2)
    box = (100, 200, 200, 100)
    frames = [(0.0, [TrackedFace(0, 0.0, face(alice, box))]), (0.5, [TrackedFace(1, 0.5, face(bob, box))])]
    assert len(link_tracks(frames)) == 2


def test_representative_embedding_weights_by_quality_and_keeps_length() -> None:
    a, b = person(1), person(2)
    good = DetectedFace((0, 1, 1, 0), a, FaceQuality(100, 100.0, 1.0, 0.9))
    poor = DetectedFace((0, 1, 1, 0), b, FaceQuality(30, 5.0, 0.2, 0.1))
    mean = representative_embedding([good, poor])
    assert mean.dtype == np.float32 and mean.shape == (128,)
    assert np.linalg.norm(mean - a) < np.linalg.norm(mean - b)
    assert float(np.linalg.norm(mean)) == pytest.approx(1.0, abs=1e-5)
