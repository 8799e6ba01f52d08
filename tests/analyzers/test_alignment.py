"""ArcFace alignment: five points from dlib's 68, the similarity transform, the 112 px chip."""

from __future__ import annotations

import numpy as np
import pytest

from svidok.analyzers.alignment import ARCFACE_112, align_arcface, five_points, similarity_transform


def rotation_scale_shift(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), shift[0]],
                     [scale * np.sin(a), scale * np.cos(a), shift[1]]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_the_transform_recovers_a_known_similarity_exactly() -> None:
    known = rotation_scale_shift(17.0, 2.5, (40.0, -12.0))
    src = np.array([[10, 20], [60, 22], [35, 50], [15, 80], [55, 78]], dtype=np.float64)
    found = similarity_transform(src, apply(known, src))
    assert np.allclose(found, known, atol=1e-9)


def test_the_transform_is_least_squares_and_never_a_reflection() -> None:
    mirrored = ARCFACE_112 * np.array([-1.0, 1.0])              # left and right swapped
    matrix = similarity_transform(mirrored, ARCFACE_112)
    assert np.linalg.det(matrix[:, :2]) > 0                      # rotation, not a flip
    noisy = ARCFACE_112 + np.random.default_rng(1).normal(0, 0.5, ARCFACE_112.shape)
    residual = apply(similarity_transform(noisy, ARCFACE_112), noisy) - ARCFACE_112
    assert float(np.abs(residual).max()) < 2.0


def test_five_points_are_eye_centres_nose_tip_and_mouth_corners() -> None:
    shape = np.zeros((68, 2))
    shape[36:42] = [[8, 10], [12, 10], [16, 10], [16, 12], [12, 12], [8, 12]]
    shape[42:48] = 40.0
    shape[30], shape[48], shape[54] = (25, 30), (15, 45), (35, 46)
    points = five_points(shape)
    assert np.allclose(points, [[12, 11], [40, 40], [25, 30], [15, 45], [35, 46]])
    with pytest.raises(ValueError, match="68 landmarks"):
        five_points(np.zeros((5, 2)))


def test_the_chip_puts_the_points_on_the_template() -> None:
    """A picture with a white dot at each of five points, moved by a known transform: the chip
    has its dots on the ArcFace template."""
    import cv2

    known = rotation_scale_shift(-20.0, 1.8, (100.0, 60.0))
    where = apply(known, ARCFACE_112)
    picture = np.zeros((400, 400, 3), np.uint8)
    for x, y in where:
        cv2.circle(picture, (round(x), round(y)), 3, (255, 255, 255), -1)
    chip = align_arcface(picture, where)
    assert chip.shape == (112, 112, 3) and chip.dtype == np.uint8
    for x, y in ARCFACE_112:
        assert chip[round(y), round(x)].min() > 200, (x, y)
