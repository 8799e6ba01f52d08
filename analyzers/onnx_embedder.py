"""Face embedders that run with ONNX Runtime, and the one shipped as ONNX: faceplugin's fr_feature.

    112×112 RGB chip ──(x − mean) / std, NCHW──▶ onnxruntime ──▶ 512-d ──L2──▶ vector

`OnnxEmbedder` owns the session (one intra-op thread: the pipeline's speech thread and the
face workers share the cores) and the preprocessing a subclass declares; a subclass is only
its card and its input constants. Models with a fixed batch run one chip per call.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from svidok.analyzers.models import FaceEmbedder, ModelCard, ModelKind, NpmFile


class OnnxEmbedder(FaceEmbedder):
    """An embedder whose network is an ONNX file taking (batch, 3, size, size) float RGB."""

    mean: ClassVar[float] = 127.5
    std: ClassVar[float] = 128.0

    def _load(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.card.require()), options, providers=["CPUExecutionProvider"])

    def _embed(self, session: Any, chips: list[np.ndarray]) -> np.ndarray:
        batch = np.stack([np.asarray(chip, np.float32) for chip in chips])
        batch = ((batch - self.mean) / self.std).transpose(0, 3, 1, 2)
        name = session.get_inputs()[0].name
        fixed = session.get_inputs()[0].shape[0]
        if isinstance(fixed, int) and fixed > 0:
            return np.concatenate([session.run(None, {name: batch[i:i + fixed]})[0] for i in range(0, len(batch), fixed)])
        return session.run(None, {name: batch})[0]


FR_FEATURE_CARD = ModelCard(
    name="fr_feature", kind=ModelKind.EMBEDDER, version="faceplugin-face-recognition-js 0.0.1",
    licence="MIT as declared by the npm package (a generic licence file of a commercial SDK vendor); "
            "training data undocumented",
    source="npm faceplugin-face-recognition-js@0.0.1: model/fr_feature.onnx",
    sha256="87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
    input="NCHW 1x3x112x112 RGB, (x - 127) / 128, ArcFace-aligned from dlib 68 landmarks; 512-d output",
    filename="fr_feature-0.0.1.onnx",
    npm=NpmFile("faceplugin-face-recognition-js", "0.0.1", "model/fr_feature.onnx"),
    card="fr_feature",
)


class FrFeature(OnnxEmbedder):
    """faceplugin's fr_feature: a 512-d ArcFace-style embedder, 4.9 MB, fixed batch of 1."""

    card = FR_FEATURE_CARD
    name = FR_FEATURE_CARD.name
    version = FR_FEATURE_CARD.version
    licence = FR_FEATURE_CARD.licence
    dimension = 512
    mean = 127.0
    std = 128.0


CARDS = (FR_FEATURE_CARD,)
