"""The plug-in face embedders run on real faces: the model files `make setup` fetched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers.faces import DetectedFace, FaceOptions, detect_faces, load_image
from svidok.analyzers.litert_embedder import MobileFaceNet
from svidok.analyzers.models import EMBEDDERS, ModelMissing, embedder
from svidok.analyzers.onnx_embedder import FrFeature
from tests.analyzers.test_faces import ASTRONAUT_FACE, astronaut, the_face, transformed

pytestmark = pytest.mark.models

PLUGINS = sorted(EMBEDDERS)
DIMENSIONS = {"mobilefacenet": 192, "fr_feature": 512, "fusion": 704}


def face(image: np.ndarray, model: str, box: tuple[int, int, int, int] | None = None, **options) -> DetectedFace:
    found = detect_faces(image, FaceOptions(model=model, **options))
    return the_face(found, box) if box else max(found, key=lambda f: f.quality.size_px)


@pytest.mark.parametrize("model", PLUGINS)
def test_the_astronaut_gets_a_unit_vector_of_the_model(model: str) -> None:
    got = face(astronaut(), model, ASTRONAUT_FACE)
    assert got.embedding.dtype == np.float32 and got.embedding.shape == (DIMENSIONS.get(model, got.embedding.size),)
    assert abs(float(np.linalg.norm(got.embedding)) - 1.0) < 1e-5
    assert got.model == embedder(model).name and got.model_version == embedder(model).version
    assert got.quality.size_px > 80                         # quality is measured as for dlib


@pytest.mark.parametrize("model", PLUGINS)
@pytest.mark.parametrize("scale,angle,quality", [(0.7, 10, 40), (1.0, -15, 25)])
def test_a_rotated_compressed_copy_stays_close(model: str, scale: float, angle: float, quality: int) -> None:
    original = face(astronaut(), model, ASTRONAUT_FACE).embedding
    copies = detect_faces(transformed(astronaut(), scale, angle, quality), FaceOptions(model=model))
    assert max(float(f.embedding @ original) for f in copies) > 0.6


@pytest.mark.parametrize("model", PLUGINS)
def test_same_person_is_closer_than_different_persons(model: str, shared_data: Path) -> None:
    folder = shared_data / "faces/face_recognition_examples/tests/test_images"
    obama = [face(load_image(folder / name), model).embedding for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    others = [face(load_image(folder / "biden.jpg"), model).embedding, face(astronaut(), model, ASTRONAUT_FACE).embedding]
    same = [float(a @ b) for i, a in enumerate(obama) for b in obama[i + 1:]]
    different = [float(a @ b) for a in obama for b in others]
    assert min(same) > 0.5 and max(different) < 0.35, (same, different)


@pytest.mark.parametrize("model", PLUGINS)
def test_mirror_average_is_a_unit_vector_that_hardly_moves(model: str) -> None:
    plain = face(astronaut(), model, ASTRONAUT_FACE).embedding
    mirrored = face(astronaut(), model, ASTRONAUT_FACE, mirror=True).embedding
    assert abs(float(np.linalg.norm(mirrored)) - 1.0) < 1e-5
    assert float(plain @ mirrored) > 0.9


def test_mobilefacenet_rows_of_its_fixed_batch_are_independent() -> None:
    """The file takes two chips per call: a chip embeds the same beside itself or beside another."""
    rng = np.random.default_rng(3)
    chips = [rng.integers(0, 255, (112, 112, 3), dtype=np.uint8) for _ in range(3)]
    model = MobileFaceNet.shared()
    together = model.predict(chips)                       # pairs (0, 1), then (2, 2)
    alone = np.concatenate([model.predict([chip]) for chip in chips])
    assert together.shape == (3, 192)
    assert np.allclose(together, alone, atol=1e-5)


def test_a_missing_model_file_names_the_command_that_installs_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SVIDOK_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelMissing, match="make setup"):
        _ = FrFeature().loaded                             # a fresh instance, not the shared one
    (tmp_path / FrFeature.card.filename).write_bytes(b"not the model")
    with pytest.raises(ModelMissing, match="SHA-256 differs"):
        _ = FrFeature().loaded


def test_fusion_cosine_gives_back_the_mean_z_normalised_cosine_of_its_parts() -> None:
    from svidok.analyzers.fusion_embedder import IMPOSTOR_STATS, Fusion, mean_z

    rng = np.random.default_rng(5)
    chips = [rng.integers(0, 255, (112, 112, 3), dtype=np.uint8) for _ in range(2)]
    fused = Fusion.shared().predict(chips)
    assert fused.shape == (2, 704)
    expected = np.mean([(float(np.dot(*embedder(name).predict(chips))) - mean) / sd
                        for name, (mean, sd) in IMPOSTOR_STATS.items()])
    assert abs(float(mean_z(float(np.dot(*fused)))) - expected) < 1e-4


def test_faces_by_model_embeds_the_same_detections_as_detect_faces() -> None:
    from svidok.analyzers.faces import faces_by_model

    options = FaceOptions(mirror=True)
    both = faces_by_model(astronaut(), options, ("dlib", "mobilefacenet"))
    assert [f.box for f in both["dlib"]] == [f.box for f in both["mobilefacenet"]]
    alone = detect_faces(astronaut(), FaceOptions(mirror=True, model="mobilefacenet"))
    assert np.allclose(both["mobilefacenet"][0].embedding, alone[0].embedding, atol=1e-6)
    assert both["dlib"][0].embedding.shape == (128,) and both["dlib"][0].model == "dlib_face_recognition_resnet_model_v1"
