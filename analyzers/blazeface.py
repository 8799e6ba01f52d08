"""BlazeFace (MediaPipe's face detector) run with LiteRT: faces as boxes with six keypoints.

    RGB picture ──letterbox to the square input, (x / 127.5) − 1──▶ LiteRT ──▶ (anchors, 16) regressors
        + (anchors, 1) scores ──sigmoid, decode against SSD anchors, weighted NMS──▶ [BlazeFaceDetection]

Two models from the `mediapipe==0.10.14` wheel (fetched by `make setup`, see `analyzers.models`):
short range (128x128 input, anchors at strides 8, 16, 16, 16: 896; faces filling a good part of
the picture) and full range (192x192, stride 4: 2,304; small faces further away). Anchors,
decoding and suppression follow MediaPipe's `SsdAnchorsCalculator`, `TensorsToDetectionsCalculator`
(`reverse_output_order`, scales = input side, fixed anchor size) and `NonMaxSuppressionCalculator`
(weighted, IoU 0.3) with the constants of its face_detection graphs; a picture that is not square
is letterboxed (scaled to fit, centred, black borders) and the results mapped back to its pixels.

Keypoints (`KEYPOINTS`, the subject's right/left): right eye, left eye, nose tip, mouth centre,
right ear tragion, left ear tragion.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from svidok.analyzers.base import InferenceModel
from svidok.analyzers.litert import open_interpreter
from svidok.analyzers.models import ModelCard, ModelKind, WheelFile

KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear_tragion", "left_ear_tragion")
NMS_IOU = 0.3                  # MediaPipe's min_suppression_threshold for faces
SCORE_CLIP = 100.0             # raw logits are clipped to ±this before the sigmoid


@dataclass(frozen=True)
class AnchorSpec:
    """One model's SSD anchor layout (MediaPipe SsdAnchorsCalculatorOptions, fixed anchor size)."""

    input_side: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float   # 1.0: a second anchor per layer; 0: none
    min_score: float                         # detections below this score are dropped


@dataclass(frozen=True)
class BlazeFaceDetection:
    """One face: box (top, right, bottom, left) and keypoints (x, y; `KEYPOINTS` order), both in
    the original picture's pixels (floats; the box may reach past the picture's edge); score 0-1."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray                    # (6, 2) float32

    @property
    def side(self) -> float:
        """Mean of the box's width and height."""
        return ((self.box[1] - self.box[3]) + (self.box[2] - self.box[0])) / 2

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) of the box centre."""
        return (self.box[1] + self.box[3]) / 2, (self.box[0] + self.box[2]) / 2


def anchors(spec: AnchorSpec) -> np.ndarray:
    """(n, 2) anchor centres (x, y) in 0-1 of the square input, in the order of the model's outputs.

    Consecutive layers with the same stride share a feature map; each layer puts one anchor per
    aspect ratio (only 1.0 here) plus one interpolated anchor per cell, so with a fixed anchor
    size only the centres differ.
    """
    centres = []
    layer = 0
    while layer < len(spec.strides):
        stride, per_cell = spec.strides[layer], 0
        while layer < len(spec.strides) and spec.strides[layer] == stride:
            per_cell += 1 + (spec.interpolated_scale_aspect_ratio > 0)
            layer += 1
        cells = int(np.ceil(spec.input_side / stride))
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode(regressors: np.ndarray, logits: np.ndarray, anchor_xy: np.ndarray, spec: AnchorSpec
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw outputs → (boxes (n, 4) as x0, y0, x1, y1, keypoints (n, 6, 2), scores (n,)), all in
    0-1 of the square input, for the anchors whose score reaches `spec.min_score`."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= spec.min_score
    raw, centres, scores = regressors.reshape(len(anchor_xy), -1)[keep] / spec.input_side, anchor_xy[keep], scores[keep]
    cx, cy = raw[:, 0] + centres[:, 0], raw[:, 1] + centres[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    points = raw[:, 4:4 + 2 * len(KEYPOINTS)].reshape(-1, len(KEYPOINTS), 2) + centres[:, None, :]
    return boxes, points, scores


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, threshold: float = NMS_IOU
                 ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted non-maximum suppression: the best remaining detection takes every
    other one overlapping it by more than `threshold` IoU; their boxes and keypoints are averaged,
    weighted by score, and the group keeps the best score."""
    order = list(np.argsort(-scores))
    areas = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    out = []
    while order:
        best, rest = order[0], np.array(order, dtype=int)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.maximum(0, x1 - x0) * np.maximum(0, y1 - y0)
        overlap = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-12)
        group = rest[overlap > threshold]
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(axis=0) / weights.sum()
        keypoints = (points[group] * weights[:, :, None]).sum(axis=0) / weights.sum()
        out.append((box, keypoints, float(scores[best])))
        order = [int(i) for i in rest[overlap <= threshold]]
    return out


def letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float, float]:
    """The picture scaled to fit a `side`² square, centred on black; and (scale, x offset, y
    offset) such that input pixel = picture pixel * scale + offset."""
    import cv2

    height, width = image.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x0, y0 = (side - size[0]) // 2, (side - size[1]) // 2
    square = np.zeros((side, side, 3), np.uint8)
    square[y0:y0 + size[1], x0:x0 + size[0]] = resized
    return square, scale, float(x0), float(y0)


class BlazeFace(InferenceModel):
    """One BlazeFace model (`card`, `spec`); `predict(rgb_image)` → [BlazeFaceDetection], best first."""

    card: ClassVar[ModelCard]
    spec: ClassVar[AnchorSpec]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._run_lock = threading.Lock()      # one interpreter per process: calls take turns
        self._anchors = anchors(self.spec)

    def _load(self) -> Any:
        interpreter = open_interpreter(self.name, self.card)
        shape = tuple(interpreter.get_input_details()[0]["shape"])
        if shape != (1, self.spec.input_side, self.spec.input_side, 3):
            raise RuntimeError(f"{self.name}: input {shape} is not the expected square of {self.spec.input_side}")
        return interpreter

    def _predict(self, interpreter: Any, image: np.ndarray) -> list[BlazeFaceDetection]:
        image = np.asarray(image, np.uint8)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        square, scale, x0, y0 = letterbox(np.ascontiguousarray(image[..., :3]), self.spec.input_side)
        tensor = (square.astype(np.float32) / 127.5 - 1.0)[None]
        source = interpreter.get_input_details()[0]
        with self._run_lock:
            interpreter.set_tensor(source["index"], tensor)
            interpreter.invoke()
            outputs = [np.array(interpreter.get_tensor(d["index"])) for d in interpreter.get_output_details()]
        regressors = next(o for o in outputs if o.shape[-1] == 16)
        logits = next(o for o in outputs if o.shape[-1] == 1)
        boxes, points, scores = decode(regressors, logits, self._anchors, self.spec)
        side = self.spec.input_side
        found = []
        for box, keypoints, score in weighted_nms(boxes, points, scores):
            x_a, y_a = (box[0] * side - x0) / scale, (box[1] * side - y0) / scale
            x_b, y_b = (box[2] * side - x0) / scale, (box[3] * side - y0) / scale
            pixels = (keypoints * side - np.array([x0, y0])) / scale
            found.append(BlazeFaceDetection((float(y_a), float(x_b), float(y_b), float(x_a)), score,
                                            pixels.astype(np.float32)))
        return found


def _card(name: str, member: str, sha256: str, input_: str) -> ModelCard:
    return ModelCard(
        name=name, kind=ModelKind.DETECTOR, version="mediapipe 0.10.14", licence="Apache-2.0 (MediaPipe)",
        source=f"PyPI mediapipe==0.10.14: {member}", sha256=sha256, input=input_,
        filename=f"{name}-mediapipe-0.10.14.tflite", wheel=WheelFile("mediapipe", "0.10.14", member),
        card="blazeface",
    )


SHORT_RANGE_CARD = _card(
    "blazeface_short_range", "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    "NHWC 1x128x128x3 RGB, x / 127.5 - 1, the picture letterboxed; 896 anchors x (box + 6 keypoints), scores",
)
FULL_RANGE_CARD = _card(
    "blazeface_full_range", "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    "NHWC 1x192x192x3 RGB, x / 127.5 - 1, the picture letterboxed; 2304 anchors x (box + 6 keypoints), scores",
)


class BlazeFaceShortRange(BlazeFace):
    """BlazeFace short range: faces that fill a good part of the picture (selfie distance)."""

    card = SHORT_RANGE_CARD
    spec = AnchorSpec(128, (8, 16, 16, 16), 1.0, min_score=0.5)
    name = SHORT_RANGE_CARD.name
    version = SHORT_RANGE_CARD.version
    licence = SHORT_RANGE_CARD.licence


class BlazeFaceFullRange(BlazeFace):
    """BlazeFace full range (sparse): smaller faces, further from the camera."""

    card = FULL_RANGE_CARD
    spec = AnchorSpec(192, (4,), 0.0, min_score=0.6)
    name = FULL_RANGE_CARD.name
    version = FULL_RANGE_CARD.version
    licence = FULL_RANGE_CARD.licence


FALLBACK = BlazeFaceShortRange      # the one `analyzers.faces` runs when HOG finds nothing (see its module)
DETECTORS: dict[str, type[BlazeFace]] = {"short": BlazeFaceShortRange, "full": BlazeFaceFullRange}
CARDS = (SHORT_RANGE_CARD, FULL_RANGE_CARD)
