"""`svidok faces FILE... --json`: shape of the output, per-file errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svidok.analyzers.face_spaces import dimension_of, space_of
from svidok.foundation.settings import AnalyzeSettings

pytestmark = pytest.mark.models


def test_faces_json_for_a_photo_a_video_and_a_bad_file(run_cli, tmp_path: Path) -> None:
    from PIL import Image

    from tests.analyzers.test_face_analyzer import portrait, walking_frames
    from tests.analyzers.test_frames import write_video

    photo = tmp_path / "photo.jpg"
    Image.fromarray(portrait()).save(photo, quality=92)
    video = write_video(tmp_path / "clip.mp4", walking_frames(1))
    bad = tmp_path / "notes.mp4"
    bad.write_text("text, not video")
    result = run_cli("faces", str(photo), str(video), str(bad), "--json", workspace=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [entry["file"] for entry in doc] == [str(photo), str(video), str(bad)]
    face = doc[0]["faces"][0]
    assert len(doc[0]["faces"]) == 1 and face["time"] is None
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    model = AnalyzeSettings().face_model                      # the settings' face model embeds
    assert len(face["embedding"]) == dimension_of(model) and all(isinstance(v, float) for v in face["embedding"])
    assert face["model"] == space_of(model).model              # the model whose space the numbers are in
    assert 0 < face["quality"]["score"] <= 1
    assert doc[1]["faces"] and all(f["time"] is not None for f in doc[1]["faces"])
    assert doc[2]["faces"] == [] and "not an image or video" in doc[2]["error"]


def test_faces_fails_when_every_file_fails(run_cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    result = run_cli("faces", str(empty), str(tmp_path / "missing.jpg"), "--json", workspace=False)
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error.startswith("no file could be analyzed: ")
    assert "empty.jpg: empty file" in error and "missing.jpg: no such file" in error
