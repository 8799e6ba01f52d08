"""Embedding spaces: which face model made a vector, so that vectors of different models never meet.

    analyze.face_model ──space_of──▶ FaceSpace(model, version) ──▶ face / reference rows

A face or reference row records the model and version that embedded it (`model`,
`model_version`); rows of one (model, version) pair form one space. Analysis, enrollment and
re-embedding embed with the active model (`analyze.face_model`, through `FaceOptions.model`),
and matching compares a reference only with faces of its own space: a vector of another model
(or of another version of the same model) lies in another space, where distances mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from svidok.analyzers.models import BUILT_IN, embedder_class

if TYPE_CHECKING:
    from svidok.foundation.settings import AnalyzeSettings


@dataclass(frozen=True)
class FaceSpace:
    """The vectors of one face model at one version (`face.model`, `face.model_version`)."""

    model: str                   # as stored in the rows: dlib's full model name, or the plug-in's name
    version: str

    @property
    def label(self) -> str:
        return f"{self.model} {self.version}"

    def where(self, table: str = "") -> tuple[str, tuple[str, str]]:
        """A SQL condition selecting this space's rows (`table.`-qualified when given) and its params."""
        prefix = f"{table}." if table else ""
        return f"{prefix}model = ? AND {prefix}model_version = ?", (self.model, self.version)


def space_of(face_model: str) -> FaceSpace:
    """The space a value of `analyze.face_model` embeds into."""
    if face_model == BUILT_IN:
        from svidok.analyzers.faces import FACE_MODEL, FACE_MODEL_VERSION

        return FaceSpace(FACE_MODEL, FACE_MODEL_VERSION)
    chosen = embedder_class(face_model)
    return FaceSpace(chosen.card.name, chosen.version)


def active_space(settings: "AnalyzeSettings") -> FaceSpace:
    """The space of the active face model (`analyze.face_model`)."""
    return space_of(settings.face_model)


def dimension_of(face_model: str) -> int:
    """The length of the vectors a value of `analyze.face_model` makes (dlib: 128)."""
    return 128 if face_model == BUILT_IN else embedder_class(face_model).dimension
