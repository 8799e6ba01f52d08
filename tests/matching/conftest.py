"""Fixtures for matching tests: real photos (scikit-image's astronaut), real face models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def save_jpeg(array: np.ndarray, path: Path, quality: int = 92) -> Path:
    from PIL import Image

    Image.fromarray(array).save(path, "JPEG", quality=quality)
    return path


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture
def photos(tmp_path: Path, astronaut: np.ndarray) -> dict[str, Path]:
    """The astronaut as reference, another view of her as archive footage (mirrored, cropped
    closer, tilted, brighter: a mirrored recompressed copy of the reference would be the family's
    photo reposted, which is never a sighting), and photos that must be rejected as references."""
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    two = np.concatenate([astronaut, np.fliplr(astronaut)], axis=1)
    tiny = cv2.resize(astronaut, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(astronaut, (0, 0), 3.0)
    blank = np.full((300, 300, 3), 200, dtype=np.uint8)
    return {
        "reference": save_jpeg(astronaut, folder / "reference.jpg"),
        "archive": save_jpeg(other_view(astronaut), folder / "archive.jpg", quality=70),
        "two": save_jpeg(two, folder / "two.jpg"),
        "tiny": save_jpeg(tiny, folder / "tiny.jpg"),
        "blurred": save_jpeg(blurred, folder / "blurred.jpg"),
        "blank": save_jpeg(blank, folder / "blank.jpg"),
    }


def other_view(astronaut: np.ndarray) -> np.ndarray:
    """The same face in another picture: mirrored, cropped closer, tilted 4 degrees, 8 % brighter."""
    from PIL import Image

    view = Image.fromarray(np.ascontiguousarray(np.fliplr(astronaut))).crop((150, 10, 420, 300))
    view = view.rotate(4, resample=Image.BICUBIC).resize((380, 408), Image.BICUBIC)
    return np.clip(np.asarray(view, dtype=np.float32) * 1.08, 0, 255).astype(np.uint8)


@pytest.fixture
def person_with_consent(run_json) -> tuple[int, int]:
    run_json("init")
    person = run_json("person", "add", "--name", "Олександр Петренко", "--name-variant", "Александр Петренко",
                      "--born", "1990-03-14", "--category", "serviceman", "--unit", "72 ОМБр")["id"]
    consent = run_json("consent", "add", str(person), "--given-by", "Марія Петренко", "--relation", "mother",
                       "--date", "2024-05-01", "--scope", "identification,court")["id"]
    return person, consent


def archive_photo(run_json, path: Path, note: str | None = None) -> str:
    """Ingest one photo; returns its media hash."""
    args = ["ingest", "files", str(path)] + (["--note", note] if note else [])
    return run_json(*args)[0]["media_sha256"]


def insert_faces(ws, media_sha256: str, image_path: Path) -> list[int]:  # noqa: ANN001 - Workspace
    """Write face + one-face track rows straight from detect_faces with the workspace's face model
    (what the analyzer stores)."""
    from svidok.analyzers.faces import FaceOptions, detect_faces, load_image

    options = FaceOptions(model=ws.settings.analyze.face_model)
    ids = []
    with ws.transaction():
        for face in detect_faces(load_image(image_path), options):
            emb = face.embedding.astype(np.float32).tobytes()
            track = ws.conn.execute(
                "INSERT INTO track (media_sha256, n_faces, embedding, analyzer, analyzer_version)"
                " VALUES (?, 1, ?, 'faces', 'test') RETURNING id", (media_sha256, emb)).scalar_one()
            face_id = ws.conn.execute(
                "INSERT INTO face (media_sha256, box, quality, embedding, track_id, model, model_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (media_sha256, json.dumps(list(face.box)), json.dumps(face.quality.as_dict()), emb, track,
                 face.model, face.model_version)).scalar_one()
            ids.append(face_id)
    return ids


def add_transcript(ws, media_sha256: str, text: str, start: float = 3.0) -> None:  # noqa: ANN001
    with ws.transaction():
        ws.conn.execute("INSERT INTO transcript_segment (media_sha256, start_s, end_s, text, language, model,"
                        " model_version) VALUES (?, ?, ?, ?, 'ru', 'whisper-base', 'test')",
                        (media_sha256, start, start + 4.0, text))


def archive_clip(tmp_path: Path, astronaut: np.ndarray, seconds: float = 3.0) -> Path:
    """A still interview clip of the mirrored astronaut (H.264 MP4), for the real analyzers."""
    import cv2

    from tests.analyzers.test_frames import write_video

    frame = cv2.resize(np.ascontiguousarray(np.fliplr(astronaut)), (320, 320), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    frames = (np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8)
              for _ in range(int(seconds * 25)))
    return write_video(tmp_path / "clip.mp4", frames)
