"""Faces in one picture: detect (dlib HOG, with fallbacks), align, embed, rate quality.

    Frame ──detect_faces──▶ [DetectedFace(box, embedding, quality)]

1. the picture is brought to a working size: wider than `analyze.face_working_width` is shrunk,
   smaller than `analyze.face_small_image_side` on its short side is enlarged (tiny video
   stills and thumbnails), so HOG (80 px window, `face_hog_upsample` pyramid doublings) finds
   faces of about 40 working pixels and up;
2. when HOG finds nothing, up to `face_upsample_budget` extra doublings are tried, then the
   `face_fallback_detector`: BlazeFace (default; a few ms, `analyzers.blazeface`, its box mapped
   to HOG's box convention so the landmark predictors fit it), dlib's CNN (~1 s a photo) or none;
3. each face gets landmarks (5- or 68-point, `face_landmarks`) and an embedding from the
   face model `FaceOptions.model` (the setting `analyze.face_model`; on the original pixels when
   the picture was shrunk; `embed_boxes` does this step alone, for stored boxes): dlib's
   ResNet (128-d, on its 150 px chip, averaged over `face_jitter` re-samplings), or a plug-in
   embedder (`analyzers.models`: 68 landmarks → five points → ArcFace 112 px chip,
   L2-normalised); with `face_mirror` the mean with the mirror image's. In video, a face that
   continues a `Chain` of the shot (same place as a face of the previous sampled frame) is
   embedded only when the chain is due (`face_embed_every`) or the face is clearly better than
   the chain's best embedded one: the embedding costs more than everything else here;
4. quality: size (box side, original pixels), sharpness (Laplacian variance of the aligned
   150x150 face chip), frontalness (1 = nose between the eyes, 0 = profile) and a score in 0-1.

All dlib models come from the installed `face_recognition_models` package and are loaded once
per process (`FaceModels.shared()`). `make setup` replaces the prebuilt dlib-bin by dlib built
with OpenBLAS where it can (`scripts/dlib_with_blas.sh`): the embedding network then runs ~4x
faster; its BLAS is held to one thread (a second one gains nothing on a batch of small chips and
would take the core the speech thread uses).
"""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from svidok.analyzers.alignment import align_arcface, five_points
from svidok.analyzers.base import InferenceModel
from svidok.analyzers.frames import load_image
from svidok.analyzers.models import BUILT_IN, FALLBACK_DETECTORS, embedder
from svidok.foundation.settings import AnalyzeSettings

__all__ = ["FACE_MODEL", "FACE_MODEL_VERSION", "Chain", "DetectedFace", "FaceModels", "FaceOptions", "FaceQuality",
           "Focus", "detect_faces", "embed_boxes", "faces_by_model", "follow", "iou", "load_image", "slow_build_note"]

FACE_MODEL = "dlib_face_recognition_resnet_model_v1"
try:
    FACE_MODEL_VERSION = importlib.metadata.version("face_recognition_models")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the faces extra is missing
    FACE_MODEL_VERSION = "unknown"

CHIP_SIZE = 150
HOG_WINDOW_PX = 80        # dlib's frontal face detector scans an 80x80 window
FOCUS_FACE_PX = 100       # a focused search sees the face of the previous frame this tall
FOLLOW_IOU = 0.4          # a box overlapping a chain's last box this much continues it
QUALITY_GAIN = 0.05       # a continuing face this much better than the chain's best is embedded anyway
# A BlazeFace box (side s = mean of width and height, centre x, y) as the HOG box dlib's landmark
# predictors were trained on: a square of side BF_SIDE_RATIO * s centred at
# (x + BF_DX * s, y + BF_DY * s). Medians over the 3,978 clean lfw-dev photos where HOG and
# BlazeFace (both ranges) find the main face, short range's box (benchmarks/eval_detectors.py,
# 2026-11-30, docs/drafts/detectors.md): side ratio 0.991 (quartiles 0.923-1.061), x offset
# -0.001, y offset -0.039 (quartiles -0.090-0.000): HOG's square sits a little higher.
BF_SIDE_RATIO = 0.99
BF_DX = 0.0
BF_DY = -0.039
stage_seconds = {"detect": 0.0, "embed": 0.0}   # running totals, for benchmarks


@dataclass(frozen=True)
class FaceQuality:
    """How useful a face is for identification; `score` combines the rest (0-1, higher is better)."""

    size_px: int
    sharpness: float
    frontalness: float
    score: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DetectedFace:
    """One face: box (top, right, bottom, left) in original image pixels, float32 embedding of
    `model` (128-d for dlib; None for a face that continues a chain not yet due for one, see `Chain`)."""

    box: tuple[int, int, int, int]
    embedding: np.ndarray | None
    quality: FaceQuality
    model: str = FACE_MODEL                # name of the face model that made the embedding
    model_version: str = FACE_MODEL_VERSION


@dataclass(frozen=True)
class Chain:
    """A face followed through the sampled frames of one shot, by place (`follow`)."""

    box: tuple[int, int, int, int]         # in the latest sampled frame
    since_embedded: int = 0                # sampled frames since its last embedding
    best_quality: float = 0.0              # best quality score among its embedded faces

    def due(self, quality: "FaceQuality", every: int) -> bool:
        """Whether its next face is embedded: every `every`-th one, or a clearly better one."""
        return self.since_embedded + 1 >= every or quality.score > self.best_quality + QUALITY_GAIN

    def then(self, face: DetectedFace) -> "Chain":
        if face.embedding is None:
            return Chain(face.box, self.since_embedded + 1, self.best_quality)
        return Chain(face.box, 0, max(self.best_quality, face.quality.score))


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes."""
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = (a[1] - a[3]) * (a[2] - a[0]) + (b[1] - b[3]) * (b[2] - b[0]) - inter
    return inter / area if area > 0 else 0.0


def follow(boxes: list[tuple[int, int, int, int]], chains: tuple[Chain, ...]) -> list[Chain | None]:
    """The chain each box continues (IoU >= FOLLOW_IOU; one box per chain, largest overlaps first)."""
    pairs = sorted(((iou(box, chain.box), i, j) for i, box in enumerate(boxes) for j, chain in enumerate(chains)),
                   reverse=True)
    out: list[Chain | None] = [None] * len(boxes)
    taken: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < FOLLOW_IOU:
            break
        if out[i] is None and j not in taken:
            out[i] = chains[j]
            taken.add(j)
    return out


@dataclass(frozen=True)
class FaceOptions:
    """Detection and embedding parameters (stored with every face record)."""

    working_width: int = 960
    min_size: int = 40
    hog_upsample: int = 1
    upsample_budget: int = 1
    cnn_fallback: bool = False             # the old switch: True means fallback_detector "cnn"
    fallback_detector: str = "blazeface"   # tried when HOG finds nothing: one of FALLBACK_DETECTORS
    jitter: int = 1
    landmarks: int = 5
    small_image_side: int = 200
    full_scan_every: int = 1
    mirror: bool = False
    embed_every: int = 1
    model: str = BUILT_IN                  # "dlib" or a plug-in embedder (analyzers.models.EMBEDDERS)

    @classmethod
    def from_settings(cls, settings: AnalyzeSettings) -> "FaceOptions":
        return cls(
            working_width=settings.face_working_width, min_size=settings.face_min_size,
            hog_upsample=settings.face_hog_upsample, upsample_budget=settings.face_upsample_budget,
            cnn_fallback=settings.face_cnn_fallback, jitter=settings.face_jitter,
            landmarks=settings.face_landmarks, small_image_side=settings.face_small_image_side,
            full_scan_every=settings.face_full_scan_every, mirror=settings.face_mirror,
            embed_every=settings.face_embed_every, model=settings.face_model,
            fallback_detector=settings.face_fallback_detector,
        )

    def __post_init__(self) -> None:
        if self.fallback_detector not in FALLBACK_DETECTORS:
            raise ValueError(f"unknown face fallback detector {self.fallback_detector!r}; "
                             f"known: {', '.join(FALLBACK_DETECTORS)}")

    @property
    def fallback(self) -> str:
        """The detector tried when HOG finds nothing ("cnn" whenever the old cnn_fallback is on)."""
        return "cnn" if self.cnn_fallback else self.fallback_detector

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Focus:
    """A cheaper search for a frame that continues a shot (see `_find_boxes_focused`).

    `regions`: (top, right, bottom, left) boxes, original pixels, of the faces seen in the shot's
    previous sampled frame.
    """

    regions: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class _Dlib:
    hog: Any
    cnn: Any
    shape5: Any
    shape68: Any
    encoder: Any


class FaceModels(InferenceModel):
    """dlib's HOG and CNN face detectors, landmark predictors and ResNet face encoder."""

    name = FACE_MODEL
    version = FACE_MODEL_VERSION
    licence = "dlib models (CC0 / Boost); 68-point landmarks trained on iBUG 300-W (non-commercial terms)"

    def _load(self) -> _Dlib:
        import warnings

        import dlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # face_recognition_models imports pkg_resources
            import face_recognition_models as frm
        if dlib.DLIB_USE_BLAS:
            _one_blas_thread()
        return _Dlib(
            hog=dlib.get_frontal_face_detector(),
            cnn=dlib.cnn_face_detection_model_v1(frm.cnn_face_detector_model_location()),
            shape5=dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
            shape68=dlib.shape_predictor(frm.pose_predictor_model_location()),
            encoder=dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
        )

    def _predict(self, model: _Dlib, image: np.ndarray, options: FaceOptions | None = None,
                 focus: Focus | None = None, chains: tuple[Chain, ...] | None = None) -> list[DetectedFace]:
        options = options or FaceOptions()
        image = _as_rgb(image)
        work, scale = _working_image(image, options)
        started = time.perf_counter()
        if focus is not None and options.hog_upsample > 0:
            rects = _find_boxes_focused(model, work, scale, options, focus)
        else:
            rects = _find_boxes(model, work, options)
        found = time.perf_counter()
        faces = _describe_all(model, image, work, scale, rects, options, chains)
        stage_seconds["detect"] += found - started
        stage_seconds["embed"] += time.perf_counter() - found
        return sorted(faces, key=lambda f: -f.quality.score)


def slow_build_note() -> str | None:
    """A one-line notice when the installed dlib has no BLAS (face embeddings ~4x slower), else None."""
    import dlib

    if dlib.DLIB_USE_BLAS:
        return None
    return ("note: this dlib has no BLAS, so face embeddings run about 4x slower; "
            "`bash scripts/dlib_with_blas.sh .venv/bin/python` builds a faster one (see README)")


def _one_blas_thread() -> None:
    """Hold the OpenBLAS that dlib links to one thread (no-op where it is another BLAS)."""
    import ctypes

    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(1)
    except (OSError, AttributeError):
        pass


def detect_faces(image: np.ndarray, options: FaceOptions | None = None, focus: Focus | None = None,
                 chains: tuple[Chain, ...] | None = None) -> list[DetectedFace]:
    """Every face found in an RGB uint8 image, best quality first (`focus`: the cheaper search).

    Without `chains` every face is embedded; with them (a video shot), a face continuing a
    chain that is not due (`Chain.due`) comes back with `embedding` None.
    """
    return FaceModels.shared().predict(image, options, focus, chains)


def faces_by_model(image: np.ndarray, options: FaceOptions, models: tuple[str, ...]) -> dict[str, list[DetectedFace]]:
    """The faces of one picture found once and embedded by each of `models` (same boxes and
    order for every model): for comparing models, or re-embedding references under another."""
    model = FaceModels.shared().loaded
    image = _as_rgb(image)
    work, scale = _working_image(image, options)
    rects = _find_boxes(model, work, options)
    return {name: sorted(_describe_all(model, image, work, scale, rects, replace(options, model=name)),
                         key=lambda f: -f.quality.score) for name in models}


def embed_boxes(image: np.ndarray, boxes: list[tuple[int, int, int, int]], options: FaceOptions) -> list[DetectedFace]:
    """The faces at known boxes (top, right, bottom, left; original pixels) of one picture, in box
    order, without detecting: landmarks, quality and an embedding by `options.model`, exactly as
    `detect_faces` describes a box it found (re-embedding stored faces under another model)."""
    import dlib

    model = FaceModels.shared().loaded
    image = _as_rgb(image)
    work, scale = _working_image(image, options)
    rects = [dlib.rectangle(round(left * scale), round(top * scale), round(right * scale) - 1, round(bottom * scale) - 1)
             for top, right, bottom, left in boxes]
    return _describe_all(model, image, work, scale, rects, options)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.shape[-1] == 4:
        image = image[..., :3]
    return np.ascontiguousarray(image, dtype=np.uint8)


def _working_image(image: np.ndarray, options: FaceOptions) -> tuple[np.ndarray, float]:
    """The picture resized for detection, and its scale (working pixels per original pixel)."""
    import cv2

    height, width = image.shape[:2]
    scale = 1.0
    if options.working_width and width > options.working_width:
        scale = options.working_width / width
    elif options.small_image_side and min(height, width) < options.small_image_side:
        scale = min(4.0, options.small_image_side / min(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation), scale


def _find_boxes(model: _Dlib, work: np.ndarray, options: FaceOptions) -> list:
    """HOG at the base upsampling, then the fallbacks while nothing is found."""
    rects = list(model.hog(work, options.hog_upsample))
    for extra in range(1, options.upsample_budget + 1):
        if rects:
            break
        rects = list(model.hog(work, options.hog_upsample + extra))
    if not rects and options.fallback == "cnn":
        rects = [d.rect for d in model.cnn(work, 1 if min(work.shape[:2]) < 400 else 0)]
    elif not rects and options.fallback == "blazeface":
        from svidok.analyzers.blazeface import FALLBACK

        rects = [hog_rect(face.box) for face in FALLBACK.shared().predict(work)]
    return [r for r in rects if min(r.width(), r.height()) >= options.min_size]


def hog_rect(box: tuple[float, float, float, float]) -> Any:
    """A BlazeFace box (top, right, bottom, left) as the dlib rectangle HOG would give that face
    (see BF_SIDE_RATIO)."""
    import dlib

    top, right, bottom, left = box
    side = ((right - left) + (bottom - top)) / 2
    x, y = (left + right) / 2 + BF_DX * side, (top + bottom) / 2 + BF_DY * side
    half = BF_SIDE_RATIO * side / 2
    return dlib.rectangle(round(x - half), round(y - half), round(x + half) - 1, round(y + half) - 1)


def _find_boxes_focused(model: _Dlib, work: np.ndarray, scale: float, options: FaceOptions,
                        focus: Focus) -> list:
    """The whole picture one pyramid doubling coarser (faces of twice the minimum size and up),
    plus a search in an enlarged window around each small face of the previous frame.

    Each window is resized so that face appears about `FOCUS_FACE_PX` px tall (never enlarged
    more than the full search enlarges) and searched without upsampling: only the scales near
    the face's last size are scanned, a few percent of the full search per face. A new small
    face, or one that shrank by more than a fifth, is found at the next full search.
    No fallbacks: a focused frame that finds nothing stays empty.
    """
    import cv2

    rects = list(model.hog(work, options.hog_upsample - 1))
    coarse_min = HOG_WINDOW_PX / 2 ** (options.hog_upsample - 1)
    height, width = work.shape[:2]
    for top, right, bottom, left in focus.regions:
        side = max(bottom - top, right - left) * scale
        if side >= 1.5 * coarse_min:
            continue                                            # the coarse pass finds it
        grow = max(side, 40.0)                                  # room to move between samples
        y0, x0 = max(0, round(top * scale - grow)), max(0, round(left * scale - grow))
        y1, x1 = min(height, round(bottom * scale + grow)), min(width, round(right * scale + grow))
        if y1 - y0 < 20 or x1 - x0 < 20:
            continue
        zoom = min(2.0 ** options.hog_upsample, FOCUS_FACE_PX / max(side, 1.0))
        size = (max(1, round((x1 - x0) * zoom)), max(1, round((y1 - y0) * zoom)))
        window = cv2.resize(np.ascontiguousarray(work[y0:y1, x0:x1]), size,
                            interpolation=cv2.INTER_LINEAR if zoom > 1 else cv2.INTER_AREA)
        found = [_unzoom(r, zoom, x0, y0) for r in model.hog(window, 0)]
        rects.extend(r for r in found if all(_rect_iou(r, kept) < 0.4 for kept in rects))
    return [r for r in rects if min(r.width(), r.height()) >= options.min_size]


def _unzoom(rect: Any, zoom: float, x0: int, y0: int) -> Any:
    """A rectangle found in a window resized by `zoom`, in the coordinates of the picture."""
    import dlib

    return dlib.rectangle(x0 + round(rect.left() / zoom), y0 + round(rect.top() / zoom),
                          x0 + round(rect.right() / zoom), y0 + round(rect.bottom() / zoom))


def _rect_iou(a: Any, b: Any) -> float:
    inter = a.intersect(b).area() if not a.intersect(b).is_empty() else 0
    union = a.area() + b.area() - inter
    return inter / union if union else 0.0


def _describe_all(model: _Dlib, image: np.ndarray, work: np.ndarray, scale: float, rects: list,
                  options: FaceOptions, chains: tuple[Chain, ...] | None = None) -> list[DetectedFace]:
    """Landmarks, quality and (one batched call for the picture) the embeddings due for each box."""
    import dlib

    if not rects:
        return []
    shapes5 = [model.shape5(work, rect) for rect in rects]
    shapes = shapes5 if options.landmarks == 5 else [model.shape68(work, rect) for rect in rects]
    source = work
    if scale < 1:                           # shrunk for detection: embed from the original pixels
        shapes = [_scale_shape(shape, 1 / scale) for shape in shapes]
        source = image
    chips = [dlib.get_face_chip(source, shape, size=CHIP_SIZE) for shape in shapes]
    boxes = [_box_in_original(rect, scale, image.shape) for rect in rects]
    qualities = []
    for box, shape5, chip in zip(boxes, shapes5, chips):
        side = round(((box[1] - box[3]) + (box[2] - box[0])) / 2)
        qualities.append(face_quality(side, _sharpness(chip), _frontalness(shape5)))
    followed = follow(boxes, chains) if chains else [None] * len(boxes)
    due = [chain is None or chain.due(quality, options.embed_every) for chain, quality in zip(followed, qualities)]
    if options.model == BUILT_IN:
        vectors = iter(_embed_chips(model, [chip for chip, wanted in zip(chips, due) if wanted], options))
        name, version = FACE_MODEL, FACE_MODEL_VERSION
    else:
        wanted_rects = [rect for rect, wanted in zip(rects, due) if wanted]
        vectors = iter(_embed_plugin(model, source, work, 1 / scale if scale < 1 else 1.0, wanted_rects, options))
        name, version = embedder(options.model).name, embedder(options.model).version
    return [DetectedFace(box, next(vectors) if wanted else None, quality, name, version)
            for box, quality, wanted in zip(boxes, qualities, due)]


def _embed_plugin(model: _Dlib, source: np.ndarray, work: np.ndarray, factor: float, rects: list,
                  options: FaceOptions) -> list[np.ndarray]:
    """Plug-in embeddings: 68 landmarks on the working picture, five points (times `factor`, into
    `source` pixels), the ArcFace chip from `source`; with `mirror`, averaged with the mirror chip's."""
    if not rects:
        return []
    chosen = embedder(options.model)
    chips = [align_arcface(source, five_points(model.shape68(work, rect)) * factor, chosen.chip_size) for rect in rects]
    batch = chips + [np.ascontiguousarray(chip[:, ::-1]) for chip in chips] if options.mirror else chips
    vectors = chosen.predict(batch)
    if options.mirror:
        vectors = chosen.average(vectors[:len(chips)], vectors[len(chips):])
    return list(vectors)


def _embed_chips(model: _Dlib, chips: list[np.ndarray], options: FaceOptions) -> list[np.ndarray]:
    """128-d embeddings of aligned chips in one batched call; with `mirror`, each is the mean of
    the chip's and its mirror image's embedding (the face seen from the other side)."""
    if not chips:
        return []
    batch = chips + [np.ascontiguousarray(chip[:, ::-1]) for chip in chips] if options.mirror else chips
    vectors = [np.asarray(v, dtype=np.float32) for v in model.encoder.compute_face_descriptor(batch, max(0, options.jitter))]
    if options.mirror:
        n = len(chips)
        vectors = [(vectors[i] + vectors[n + i]) / 2 for i in range(n)]
    return vectors


def _scale_shape(shape: Any, factor: float) -> Any:
    import dlib

    rect = shape.rect
    scaled_rect = dlib.rectangle(round(rect.left() * factor), round(rect.top() * factor),
                                 round(rect.right() * factor), round(rect.bottom() * factor))
    points = dlib.points([dlib.point(round(p.x * factor), round(p.y * factor)) for p in shape.parts()])
    return dlib.full_object_detection(scaled_rect, points)


def _box_in_original(rect: Any, scale: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    top = max(0, round(rect.top() / scale))
    left = max(0, round(rect.left() / scale))
    bottom = min(height, round((rect.bottom() + 1) / scale))
    right = min(width, round((rect.right() + 1) / scale))
    return (top, right, bottom, left)


def _sharpness(chip: np.ndarray) -> float:
    import cv2

    gray = cv2.cvtColor(np.asarray(chip), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _frontalness(shape5: Any) -> float:
    """1 when the nose sits midway between the eyes, falling to 0 at half an eye distance off."""
    pts = np.array([[p.x, p.y] for p in shape5.parts()], dtype=np.float64)
    eye_a, eye_b, nose = pts[0:2].mean(axis=0), pts[2:4].mean(axis=0), pts[4]
    axis = eye_b - eye_a
    distance = float(np.linalg.norm(axis))
    if distance < 1e-6:
        return 0.0
    offset = float(np.dot(nose - (eye_a + eye_b) / 2, axis / distance)) / distance
    return round(float(np.clip(1.0 - abs(offset) / 0.5, 0.0, 1.0)), 3)


def face_quality(size_px: int, sharpness: float, frontalness: float) -> FaceQuality:
    """Combine the measures: size saturates at 120 px, sharpness at a Laplacian variance of 150."""
    size_f = min(1.0, size_px / 120)
    sharp_f = min(1.0, sharpness / 150)
    score = 0.35 * size_f + 0.35 * sharp_f + 0.30 * frontalness
    return FaceQuality(int(size_px), round(sharpness, 2), frontalness, round(score, 4))
