"""Fusion of the two plug-in embedders: the mean of their z-normalised cosines, as one vector.

    chip ──MobileFaceNet──▶ a (192-d, unit) ┐
    chip ──fr_feature────▶ b (512-d, unit) ┴─▶ [a / √(2σa), b / √(2σb)] ──L2──▶ 704-d vector

For two faces, z_m = (cos_m − μ_m) / σ_m with each model's impostor statistics (μ, σ: mean and
standard deviation of the cosine between photos of different people, measured on lfw-dev's
single-photo identities, `benchmarks/eval_identification.py --zstats`). The dot product of
two fused vectors is (z_a + z_b) / 2 + constant, scaled by a constant: so the fused vectors
are searched by cosine like any other embedding, and `mean_z(cosine)` gives the mean z back.
No file of its own: it loads (and its card lists) the two models it depends on.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from svidok.analyzers.models import FaceEmbedder, ModelCard, ModelKind, embedder, unit

# model -> (mean, standard deviation) of impostor cosines, lfw-dev single-photo identities,
# clean photos, the settings' default options (mirror-averaged), best face per photo, all
# 1,133,265 pairs of the 1,506 photos (`benchmarks/eval_identification.py --model fusion --zstats`)
IMPOSTOR_STATS: dict[str, tuple[float, float]] = {
    "mobilefacenet": (0.0097, 0.1438),
    "fr_feature": (0.0085, 0.0970),
}
PARTS = tuple(IMPOSTOR_STATS)

FUSION_CARD = ModelCard(
    name="fusion", kind=ModelKind.EMBEDDER, version="1: mobilefacenet (expo 1.0.24) + fr_feature (faceplugin 0.0.1)",
    licence="those of both parts (see their cards): neither is established beyond the npm packages' declarations",
    source="computed in Svidok from mobilefacenet and fr_feature; z statistics pinned in "
           "analyzers/fusion_embedder.py",
    sha256=None, input="the ArcFace 112x112 chip, fed to both parts; 704-d output compared by cosine",
    card="fusion",
)


class Fusion(FaceEmbedder):
    """MobileFaceNet and fr_feature together: the mean of their z-normalised cosines."""

    card = FUSION_CARD
    name = FUSION_CARD.name
    version = FUSION_CARD.version
    licence = FUSION_CARD.licence
    dimension = 192 + 512
    depends_on = PARTS

    def _load(self) -> list[FaceEmbedder]:
        parts = [embedder(name) for name in PARTS]
        for part in parts:
            _ = part.loaded                     # a missing file fails here, naming make setup
        return parts

    def _embed(self, parts: list[FaceEmbedder], chips: list[np.ndarray]) -> np.ndarray:
        return np.hstack([part.predict(chips) for part in parts]) * _weights(parts)

    def average(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Part by part: each part's mean as a unit vector, then weighted again."""
        parts = self.loaded
        bounds = np.cumsum([0] + [part.dimension for part in parts])
        means = [unit(a[:, s:e] + b[:, s:e]) for s, e in pairwise(bounds)]
        return unit(np.hstack(means) * _weights(parts))


def _weights(parts: list[Any]) -> np.ndarray:
    return np.concatenate([np.full(part.dimension, 1.0 / np.sqrt(len(parts) * IMPOSTOR_STATS[part.card.name][1]),
                                   np.float32) for part in parts])


def mean_z(cosine: float | np.ndarray) -> float | np.ndarray:
    """The mean z-normalised cosine of the parts, from the cosine of two fused vectors."""
    scale = sum(1.0 / (len(PARTS) * sd) for _, sd in IMPOSTOR_STATS.values())
    offset = sum(mean / (len(PARTS) * sd) for mean, sd in IMPOSTOR_STATS.values())
    return scale * np.asarray(cosine) - offset


CARDS = (FUSION_CARD,)
