"""Face detection, embeddings and quality with the real dlib models."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers.base import AnalysisError
from svidok.analyzers.faces import (
    FACE_MODEL,
    FACE_MODEL_VERSION,
    Chain,
    DetectedFace,
    FaceModels,
    FaceOptions,
    FaceQuality,
    Focus,
    detect_faces,
    follow,
    load_image,
)
from svidok.analyzers.tracks import iou

pytestmark = pytest.mark.models

ASTRONAUT_FACE = (76, 266, 167, 175)        # (top, right, bottom, left) of Eileen Collins' face


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def the_face(faces: list[DetectedFace], box: tuple[int, int, int, int]) -> DetectedFace:
    best = max(faces, key=lambda f: iou(f.box, box))
    assert iou(best.box, box) > 0.5, [f.box for f in faces]
    return best


def transformed(image: np.ndarray, scale: float, angle: float, jpeg_quality: int) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    moved = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(moved, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_finds_the_astronaut_face_with_embedding_and_quality() -> None:
    face = the_face(detect_faces(astronaut()), ASTRONAUT_FACE)
    assert face.embedding.dtype == np.float32 and face.embedding.shape == (128,)
    assert 80 <= face.quality.size_px <= 100
    assert face.quality.frontalness > 0.8
    assert face.quality.sharpness > 50
    assert 0.5 < face.quality.score <= 1.0


@pytest.mark.parametrize("scale,angle,quality", [(0.7, 10, 40), (1.0, -15, 25)])
def test_transformed_copy_embeds_close(scale: float, angle: float, quality: int) -> None:
    original = the_face(detect_faces(astronaut()), ASTRONAUT_FACE)
    faces = detect_faces(transformed(astronaut(), scale, angle, quality))
    distance = min(float(np.linalg.norm(f.embedding - original.embedding)) for f in faces)
    assert distance < 0.6


def test_different_person_embeds_far(shared_data: Path) -> None:
    obama = detect_faces(load_image(shared_data / "faces/face_recognition_examples/tests/test_images/obama.jpg"))
    original = the_face(detect_faces(astronaut()), ASTRONAUT_FACE)
    assert len(obama) == 1
    assert float(np.linalg.norm(obama[0].embedding - original.embedding)) > 0.6


def test_big_pictures_are_detected_at_working_width_and_boxed_in_original_pixels() -> None:
    import cv2

    big = cv2.resize(astronaut(), (2048, 2048), interpolation=cv2.INTER_CUBIC)
    face = the_face(detect_faces(big, FaceOptions(working_width=512)), tuple(v * 4 for v in ASTRONAUT_FACE))
    original = the_face(detect_faces(astronaut()), ASTRONAUT_FACE)
    assert face.quality.size_px > 300
    assert float(np.linalg.norm(face.embedding - original.embedding)) < 0.4


def test_blur_lowers_sharpness_and_score() -> None:
    import cv2

    sharp = the_face(detect_faces(astronaut()), ASTRONAUT_FACE)
    blurred = the_face(detect_faces(cv2.GaussianBlur(astronaut(), (0, 0), 2.5)), ASTRONAUT_FACE)
    assert blurred.quality.sharpness < sharp.quality.sharpness / 3
    assert blurred.quality.score < sharp.quality.score


def test_small_picture_fallbacks_find_a_face_the_default_misses() -> None:
    import cv2

    tiny = cv2.resize(astronaut()[40:220, 130:310], (40, 40), interpolation=cv2.INTER_AREA)
    bare = FaceOptions(upsample_budget=0, min_size=0, small_image_side=0, fallback_detector="none")
    assert detect_faces(tiny, bare) == []
    found = detect_faces(tiny, FaceOptions(small_image_side=200, min_size=0))
    assert len(found) == 1 and found[0].box[1] <= 40 and found[0].box[2] <= 40


def test_no_face_in_a_picture_without_people() -> None:
    from skimage import data

    assert detect_faces(data.coffee()) == []


def test_models_load_once_and_describe_themselves() -> None:
    assert FaceModels.shared() is FaceModels.shared()
    info = FaceModels.shared().describe()
    assert info["model"] == FACE_MODEL == "dlib_face_recognition_resnet_model_v1"
    assert info["version"] == FACE_MODEL_VERSION != "unknown"


def test_load_image_refuses_text_quickly(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("not a photo")
    started = time.monotonic()
    with pytest.raises(AnalysisError, match="not a readable image"):
        load_image(path)
    assert time.monotonic() - started < 1


def small_face_frame(left: int = 600, top: int = 200) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 960x540 video frame with the astronaut's face about 45 px high, and where that face is."""
    import cv2

    canvas = np.full((540, 960, 3), 80, np.uint8)
    half = cv2.resize(astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    canvas[top:top + 256, left:left + 256] = half
    box = tuple(v // 2 for v in ASTRONAUT_FACE)
    return canvas, (box[0] + top, box[1] + left, box[2] + top, box[3] + left)


def test_a_45_px_face_in_a_960_frame_is_found_in_full_and_focused_searches() -> None:
    frame, where = small_face_frame()
    full = the_face(detect_faces(frame), where)
    assert 40 <= full.quality.size_px <= 60
    assert detect_faces(frame, focus=Focus(())) == []          # the coarse pass alone is blind to it
    moved, where_now = small_face_frame(left=612, top=194)      # the next sampled frame: it moved a little
    focused = the_face(detect_faces(moved, focus=Focus((full.box,))), where_now)
    assert float(np.linalg.norm(focused.embedding - full.embedding)) < 0.3


def test_focused_search_follows_a_face_that_moves_and_grows_in_its_enlarged_window() -> None:
    import cv2

    def frame_with(scale: float, top: int, left: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        canvas = np.full((540, 960, 3), 80, np.uint8)
        side = round(512 * scale)
        canvas[top:top + side, left:left + side] = cv2.resize(astronaut(), (side, side), interpolation=cv2.INTER_AREA)
        box = tuple(round(v * scale) for v in ASTRONAUT_FACE)
        return canvas, (box[0] + top, box[1] + left, box[2] + top, box[3] + left)

    before, where_before = frame_with(0.5, 20, 100)                # a ~60 px face: the coarse pass misses it
    assert detect_faces(before, focus=Focus(())) == []
    seen = the_face(detect_faces(before), where_before)
    after, where_after = frame_with(0.55, 5, 125)                  # half a second later: moved, a bit larger
    full = the_face(detect_faces(after), where_after)
    focused = the_face(detect_faces(after, focus=Focus((seen.box,))), where_after)
    assert iou(focused.box, full.box) > 0.7
    assert float(np.linalg.norm(focused.embedding - full.embedding)) < 0.15


def test_dlib_built_with_openblas_runs_it_on_one_thread() -> None:
    import ctypes

    import dlib

    if not dlib.DLIB_USE_BLAS:
        pytest.skip("dlib-bin without BLAS (scripts/dlib_with_blas.sh could not build dlib here)")
    FaceModels.shared().loaded
    assert ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads() == 1


def test_a_dlib_without_blas_is_pointed_out_and_one_with_it_is_not() -> None:
    import dlib

    from svidok.analyzers.faces import slow_build_note

    note = slow_build_note()
    assert (note is None) == bool(dlib.DLIB_USE_BLAS)
    assert note is None or "scripts/dlib_with_blas.sh" in note


def test_focused_search_still_finds_big_faces_anywhere() -> None:
    face = the_face(detect_faces(astronaut(), focus=Focus(())), ASTRONAUT_FACE)
    assert face.quality.size_px > 80



def test_mirror_averaged_embedding_barely_changes_when_the_picture_is_mirrored() -> None:
    image = astronaut()
    mirrored = np.ascontiguousarray(image[:, ::-1])
    mirrored_box = (ASTRONAUT_FACE[0], image.shape[1] - ASTRONAUT_FACE[3], ASTRONAUT_FACE[2],
                    image.shape[1] - ASTRONAUT_FACE[1])

    def gap(options: FaceOptions) -> float:
        a = the_face(detect_faces(image, options), ASTRONAUT_FACE).embedding
        b = the_face(detect_faces(mirrored, options), mirrored_box).embedding
        return float(np.linalg.norm(a - b))

    plain, averaged = gap(FaceOptions()), gap(FaceOptions(mirror=True))
    assert averaged < plain / 2, (plain, averaged)


def test_follow_pairs_boxes_with_the_chain_they_overlap_most() -> None:
    left, right = Chain((0, 50, 50, 0)), Chain((0, 150, 50, 100))
    got = follow([(0, 155, 50, 105), (60, 50, 110, 0), (2, 52, 52, 2)], (left, right))
    assert got == [right, None, left]                       # the middle box overlaps nothing
    assert follow([(0, 50, 50, 0), (1, 51, 51, 1)], (left,)) == [left, None]   # one box per chain


def test_a_chain_is_due_every_nth_frame_or_for_a_clearly_better_face() -> None:
    usual, better = FaceQuality(60, 80.0, 0.9, 0.60), FaceQuality(90, 150.0, 1.0, 0.90)
    chain = Chain((0, 50, 50, 0)).then(DetectedFace((0, 50, 50, 0), np.zeros(128, np.float32), usual))
    assert (chain.since_embedded, chain.best_quality) == (0, 0.60)
    dues = []
    for _ in range(6):
        due = chain.due(usual, every=3)
        dues.append(due)
        chain = chain.then(DetectedFace(chain.box, np.zeros(128, np.float32) if due else None, usual))
    assert dues == [False, False, True, False, False, True]
    assert chain.due(better, every=3) and not Chain((0, 1, 1, 0), 0, 0.6).due(usual, every=3)
