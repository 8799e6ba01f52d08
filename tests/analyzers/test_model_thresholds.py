"""Calibrated thresholds as a curve over the gallery size: interpolated in log(gallery), clamped."""

from __future__ import annotations

import math

import pytest

from svidok.analyzers.face_spaces import space_of
from svidok.analyzers.model_thresholds import (CurvePoint, ThresholdCurve, ThresholdsMissing, calibration, curve_for,
                                               thresholds_for)
from svidok.analyzers.models import face_model_names

CURVE = ThresholdCurve("m", "1", (CurvePoint(60, 1.2, 1.1), CurvePoint(600, 1.0, 0.8), CurvePoint(6000, 0.9, 0.7)))


def test_measured_sizes_give_their_own_values() -> None:
    for point in CURVE.points:
        got = CURVE.at(point.gallery)
        assert (got.gallery, got.threshold, got.strict) == (point.gallery, point.threshold, point.strict)


def test_between_sizes_the_values_follow_log_gallery() -> None:
    middle = CURVE.at(round(math.sqrt(60 * 600)))                          # halfway in log(gallery): 190
    assert middle.threshold == pytest.approx(1.1, abs=2e-4) and middle.strict == pytest.approx(0.95, abs=2e-4)
    assert CURVE.at(100).threshold > CURVE.at(190).threshold > CURVE.at(1000).threshold > CURVE.at(5000).threshold
    assert CURVE.at(1000).threshold == pytest.approx(1.0 - 0.1 * math.log(1000 / 600) / math.log(10), abs=1e-4)


def test_outside_the_measured_sizes_the_ends_are_kept() -> None:
    for gallery in (None, 0, 1, 59, 60):
        assert (CURVE.at(gallery).threshold, CURVE.at(gallery).strict) == (1.2, 1.1)
    for gallery in (6000, 10_000, 10 ** 7):                               # no extrapolation: clamped
        assert (CURVE.at(gallery).threshold, CURVE.at(gallery).strict) == (0.9, 0.7)
    assert CURVE.at(10 ** 7).gallery == 10 ** 7


def test_a_curve_of_one_point_is_one_value() -> None:
    one = ThresholdCurve("m", "1", (CurvePoint(60, 0.5, 0.45),))
    assert {(one.at(g).threshold, one.at(g).strict) for g in (1, 60, 1000)} == {(0.5, 0.45)}


def test_every_model_has_a_calibrated_curve_that_never_loosens() -> None:
    models = calibration()["models"]
    for name in face_model_names():
        curve = curve_for(space_of(name).model)
        galleries = [p.gallery for p in curve.points]
        assert galleries == sorted(set(galleries)) and galleries[0] > 0
        for smaller, larger in zip(curve.points, curve.points[1:]):
            assert larger.threshold <= smaller.threshold and larger.strict <= smaller.strict
        assert all(p.strict <= p.threshold for p in curve.points)
        assert models[curve.model]["face_model"] == name
        assert thresholds_for(curve.model).threshold == curve.points[0].threshold      # None: the smallest size


def test_the_default_model_tightens_as_the_register_grows() -> None:
    fusion = curve_for(space_of("fusion").model)
    assert len(fusion.points) >= 3 and fusion.points[-1].gallery >= 1000
    assert thresholds_for(fusion.model, 1000).threshold < thresholds_for(fusion.model, 60).threshold


def test_a_model_without_calibration_says_how_to_get_one() -> None:
    with pytest.raises(ThresholdsMissing, match="calibrate_thresholds.py"):
        thresholds_for("no-such-model", 10)
