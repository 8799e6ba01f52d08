"""Face-match thresholds and score curves per face model and gallery size, calibrated on dev data.

    benchmarks/calibrate_thresholds.py ──writes──▶ analyzers/model_thresholds.toml ──▶ matching

Each model's vectors have their own distance scale, so a threshold is never carried from one
model to another. The file holds, per model (keyed by the name stored in `face.model`), a curve
over the gallery size: for each measured number of enrolled persons (`gallery`), the Euclidean
distance between stored embeddings (as `matching.face_matcher` measures it) at which at most
5 % (`threshold`) and at most 1 % (`strict`) of the distractor photos raise a candidate for
anyone in a gallery of that many persons (the protocol of `benchmarks/eval_identification.py`;
the stricter of clean and video-grade photos). Every enrolled person is one more chance for a
stranger to come close, so the distances shrink as the gallery grows: a threshold chosen for 60
persons lets about 40 % of distractors raise a candidate at 700.

`thresholds_for(model, gallery)` interpolates the curve linearly in log(gallery) between the
measured sizes and clamps at both ends: below the smallest measured gallery it gives the
smallest's values (a little loose for a handful of persons), and beyond the largest it gives the
largest's. Nothing is extrapolated: a register larger than the largest measured gallery gets a
threshold that lets through somewhat more than 5 % of distractors (how much more is unmeasured).
A sighting's score is 0.5 at `threshold` and 0.9 at `strict` (`curve_width`). The file is
written by the script only; `match.face_threshold` overrides the threshold when set (> 0).
"""

from __future__ import annotations

import bisect
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

FILE = "model_thresholds.toml"
SCRIPT = "benchmarks/calibrate_thresholds.py"


class ThresholdsMissing(LookupError):
    """No calibrated threshold for a face model; the message says how to get one."""


@dataclass(frozen=True)
class ModelThresholds:
    """The calibrated distances of one face model for a gallery of `gallery` enrolled persons."""

    model: str
    version: str
    gallery: int                # the number of enrolled persons these values are for
    threshold: float            # <= 5 % of distractor photos raise a candidate
    strict: float               # <= 1 %

    @property
    def curve_width(self) -> float:
        """Logistic width of the score curve: 0.5 at `threshold`, 0.9 at `strict`."""
        return max(self.threshold - self.strict, 1e-3) / math.log(9)


@dataclass(frozen=True)
class CurvePoint:
    """One measured gallery size of a model's curve."""

    gallery: int
    threshold: float
    strict: float


@dataclass(frozen=True)
class ThresholdCurve:
    """A model's measured points, by growing gallery size (at least one)."""

    model: str
    version: str
    points: tuple[CurvePoint, ...]

    def at(self, gallery: int | None = None) -> ModelThresholds:
        """The values for a gallery of that many persons: interpolated in log(gallery) between the
        measured sizes, clamped at the smallest and the largest; None: the smallest measured size."""
        first, last = self.points[0], self.points[-1]
        if gallery is None or gallery <= first.gallery:
            return self._values(gallery if gallery is not None else first.gallery, first.threshold, first.strict)
        if gallery >= last.gallery:
            return self._values(gallery, last.threshold, last.strict)
        above = bisect.bisect_right([p.gallery for p in self.points], gallery)
        low, high = self.points[above - 1], self.points[above]
        t = (math.log(gallery) - math.log(low.gallery)) / (math.log(high.gallery) - math.log(low.gallery))
        return self._values(gallery, low.threshold + t * (high.threshold - low.threshold),
                            low.strict + t * (high.strict - low.strict))

    def _values(self, gallery: int, threshold: float, strict: float) -> ModelThresholds:
        return ModelThresholds(self.model, self.version, gallery, round(threshold, 4), round(strict, 4))


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any]:
    """The whole file: `calibration` (how it was made) and `models`."""
    text = resources.files("svidok.analyzers").joinpath(FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def curve_for(model: str) -> ThresholdCurve:
    """The calibrated curve of a model (its name as stored in `face.model`)."""
    entry = calibration().get("models", {}).get(model)
    if entry is None or not entry.get("curve"):
        raise ThresholdsMissing(f"no calibrated face threshold for model {model!r} in analyzers/{FILE}; run "
                                f"`.venv/bin/python {SCRIPT}` or set match.face_threshold")
    points = sorted((CurvePoint(int(p["gallery"]), float(p["threshold"]), float(p["strict"])) for p in entry["curve"]
                     if int(p["gallery"]) > 0), key=lambda point: point.gallery)
    return ThresholdCurve(model, str(entry["version"]), tuple(points))


def thresholds_for(model: str, gallery: int | None = None) -> ModelThresholds:
    """The calibrated thresholds of a model for a gallery of `gallery` enrolled persons (None:
    the smallest measured gallery, the model's loosest values, e.g. to compare scales of models)."""
    return curve_for(model).at(gallery)
