"""Face-match thresholds and score curves per face model, calibrated on dev data.

    benchmarks/calibrate_thresholds.py ──writes──▶ analyzers/model_thresholds.toml ──▶ matching

Each model's vectors have their own distance scale, so a threshold is never carried from one
model to another. The file holds, per model (keyed by the name stored in `face.model`), the
Euclidean distance between stored embeddings (as `matching.face_matcher` measures it) at
which at most 5 % (`threshold`) and at most 1 % (`strict`) of the distractor photos raise a
candidate for anyone in a gallery of `gallery` persons (the protocol of
`benchmarks/eval_identification.py`; the stricter of clean and video-grade photos). A
sighting's score is 0.5 at `threshold` and 0.9 at `strict` (`curve_width`). The file is
written by the script only; `match.face_threshold` overrides the threshold when set (> 0).
"""

from __future__ import annotations

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
    """The calibrated distances of one face model."""

    model: str
    version: str
    threshold: float            # <= 5 % of distractor photos raise a candidate
    strict: float               # <= 1 %

    @property
    def curve_width(self) -> float:
        """Logistic width of the score curve: 0.5 at `threshold`, 0.9 at `strict`."""
        return max(self.threshold - self.strict, 1e-3) / math.log(9)


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any]:
    """The whole file: `calibration` (how it was made) and `models`."""
    text = resources.files("svidok.analyzers").joinpath(FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def thresholds_for(model: str) -> ModelThresholds:
    """The calibrated thresholds of a model (its name as stored in `face.model`)."""
    entry = calibration().get("models", {}).get(model)
    if entry is None:
        raise ThresholdsMissing(f"no calibrated face threshold for model {model!r} in analyzers/{FILE}; run "
                                f"`.venv/bin/python {SCRIPT}` or set match.face_threshold")
    return ModelThresholds(model, str(entry["version"]), float(entry["threshold"]), float(entry["strict"]))
