"""The register-scale design of benchmarks/eval_identification.py and the calibration's curve rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str):  # noqa: ANN202
    if name not in sys.modules:
        sys.path.insert(0, str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_padding_persons_are_never_distractors() -> None:
    ident = _module("eval_identification")
    if not ident.LFW.is_dir():
        pytest.skip(f"{ident.LFW} is absent")
    photos = sorted(ident.LFW.glob("*/*.jpg"))
    sizes = {p: np.array([60.0] if i % 40 else [60.0, 60.0]) for i, p in enumerate(photos)}   # some refused
    plan = ident.design(sizes, padding=300, seed=1)
    padded = set(plan.padding)
    assert padded and not padded & set(plan.distractors) and padded <= set(plan.singles)
    assert len(plan.distractors) == len(plan.singles) - 300 and len(padded) < 300          # refused ones dropped
    assert all(ident.usable_reference(sizes[p]) for p in plan.padding)
    assert plan.enrolled[:len(plan.references)] == plan.references
    assert ident.design(sizes, padding=300, seed=1) == plan != ident.design(sizes, padding=300, seed=2)
    for order in ident.gallery_orders(plan, 3, seed=1):                   # persons with probes first
        assert sorted(order[:len(plan.references)]) == list(range(len(plan.references)))
        assert sorted(order) == list(range(len(plan.enrolled)))


def test_a_larger_gallery_never_keeps_a_looser_threshold() -> None:
    calibrate = _module("calibrate_thresholds")
    grades = {60: {"clean": {"threshold": 1.10, "strict": 1.05}, "video-grade": {"threshold": 1.12, "strict": 1.04}},
              250: {"clean": {"threshold": 1.11, "strict": 1.00}, "video-grade": {"threshold": 1.09, "strict": 1.02}},
              1000: {"clean": {"threshold": 1.02, "strict": 0.98}, "video-grade": {"threshold": 1.05, "strict": 0.99}}}
    points = calibrate.curve(grades)
    assert [(p["gallery"], p["threshold"], p["strict"]) for p in points] == [(60, 1.10, 1.04), (250, 1.09, 1.00),
                                                                              (1000, 1.02, 0.98)]
    assert points[1]["video_grade"] == grades[250]["video-grade"]
