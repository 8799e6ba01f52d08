"""BlazeFace with the real MediaPipe files: anchors, decoding, letterboxing, and as HOG's fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers import blazeface
from svidok.analyzers.blazeface import (
    DETECTORS,
    BlazeFaceFullRange,
    BlazeFaceShortRange,
    anchors,
    decode,
    weighted_nms,
)
from svidok.analyzers.faces import FaceModels, FaceOptions, detect_faces
from svidok.analyzers.models import ModelMissing
from tests.analyzers.test_faces import ASTRONAUT_FACE, astronaut, the_face, transformed

pytestmark = pytest.mark.models

ROTATED = 50                                   # degrees: HOG (frontal, upright) no longer finds the astronaut


def centre(box: tuple[float, float, float, float]) -> np.ndarray:
    return np.array([(box[1] + box[3]) / 2, (box[0] + box[2]) / 2])


@pytest.mark.parametrize("detector", [BlazeFaceShortRange, BlazeFaceFullRange])
def test_anchor_count_matches_the_model_outputs(detector: type[blazeface.BlazeFace]) -> None:
    interpreter = detector.shared().loaded
    shapes = sorted(tuple(d["shape"]) for d in interpreter.get_output_details())
    count = len(anchors(detector.spec))
    assert shapes == [(1, count, 1), (1, count, 16)]
    assert count == {128: 896, 192: 2304}[detector.spec.input_side]


def test_decoding_puts_a_zero_offset_box_on_its_anchor_and_nms_merges_overlaps() -> None:
    spec = BlazeFaceShortRange.spec
    grid = anchors(spec)
    regressors = np.zeros((len(grid), 16), np.float32)
    regressors[:, 2:4] = 32.0                                     # 32 px wide and tall
    logits = np.full(len(grid), -10.0, np.float32)
    logits[[100, 101]] = 3.0                                      # one cell's two anchors
    logits[700] = 2.0
    boxes, points, scores = decode(regressors, logits, grid, spec)
    assert len(boxes) == 3
    assert np.allclose((boxes[0, :2] + boxes[0, 2:]) / 2, grid[100]) and np.allclose(boxes[0, 2:] - boxes[0, :2], 0.25)
    assert np.allclose(points[0], grid[100])
    merged = weighted_nms(boxes, points, scores)
    assert len(merged) == 2 and merged[0][2] == pytest.approx(1 / (1 + np.exp(-3.0)))


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_finds_the_astronaut_with_keypoints_near_dlibs_landmarks(name: str) -> None:
    import dlib

    image = astronaut()
    found = DETECTORS[name].shared().predict(image)
    assert len(found) == 1 and found[0].score > 0.8
    face = found[0]
    assert np.linalg.norm(centre(face.box) - centre(ASTRONAUT_FACE)) < 15
    shape = FaceModels.shared().loaded.shape68(image, dlib.rectangle(175, 76, 265, 166))
    marks = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
    expected = np.stack([marks[36:42].mean(axis=0), marks[42:48].mean(axis=0), marks[30], marks[48:68].mean(axis=0)])
    assert np.abs(face.keypoints[:4] - expected).max() < 0.12 * face.side     # eyes, nose tip, mouth


@pytest.mark.parametrize("shape,offset", [((200, 320), (80, 0)), ((330, 200), (0, 130))])
def test_a_letterboxed_picture_gives_boxes_in_its_own_pixels(shape: tuple[int, int], offset: tuple[int, int]) -> None:
    crop = np.ascontiguousarray(astronaut()[40:240, 120:320])     # 200x200 around the face
    framed = np.zeros((*shape, 3), np.uint8)
    framed[offset[1]:offset[1] + 200, offset[0]:offset[0] + 200] = crop
    square = BlazeFaceShortRange.shared().predict(crop)[0]
    moved = BlazeFaceShortRange.shared().predict(framed)[0]
    assert np.abs(centre(moved.box) - centre(square.box) - offset).max() < 5
    assert np.abs(moved.keypoints - square.keypoints - offset).max() < 6
    assert abs(moved.side - square.side) < 0.1 * square.side


def test_the_mapped_box_is_close_to_hogs_box() -> None:
    from svidok.analyzers.faces import hog_rect
    from svidok.analyzers.tracks import iou

    rect = hog_rect(BlazeFaceShortRange.shared().predict(astronaut())[0].box)
    assert iou((rect.top(), rect.right() + 1, rect.bottom() + 1, rect.left()), ASTRONAUT_FACE) > 0.75


def test_a_rotated_face_hog_misses_is_found_by_the_fallback() -> None:
    import cv2

    image = transformed(astronaut(), 1.0, ROTATED, 90)
    assert detect_faces(image, FaceOptions(fallback_detector="none")) == []
    faces = detect_faces(image, FaceOptions(fallback_detector="blazeface"))
    assert len(faces) == 1 and faces[0].embedding is not None
    matrix = cv2.getRotationMatrix2D((256, 256), ROTATED, 1.0)
    where = matrix @ np.array([*centre(ASTRONAUT_FACE), 1.0])
    assert np.linalg.norm(centre(faces[0].box) - where) < 20
    assert 70 <= faces[0].quality.size_px <= 110


def test_the_fallback_leaves_faces_hog_finds_alone() -> None:
    default = the_face(detect_faces(astronaut(), FaceOptions(fallback_detector="blazeface")), ASTRONAUT_FACE)
    without = the_face(detect_faces(astronaut(), FaceOptions(fallback_detector="none")), ASTRONAUT_FACE)
    assert default.box == without.box and np.array_equal(default.embedding, without.embedding)


def test_pictures_without_faces_give_none() -> None:
    from skimage import data

    for image in (data.coffee(), data.rocket(), np.full((300, 400, 3), 128, np.uint8)):
        assert DETECTORS["short"].shared().predict(image) == []
        assert detect_faces(image, FaceOptions(fallback_detector="blazeface")) == []


def test_a_missing_model_file_names_make_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVIDOK_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelMissing, match="make setup"):
        BlazeFaceShortRange().predict(astronaut())                 # a new instance: loads from the empty folder
    (tmp_path / BlazeFaceShortRange.card.filename).write_bytes(b"not the model")
    with pytest.raises(ModelMissing, match="make setup"):
        BlazeFaceShortRange().predict(astronaut())


def test_unknown_fallback_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="blazeface"):
        FaceOptions(fallback_detector="yolo")
    assert FaceOptions(cnn_fallback=True).fallback == "cnn"
