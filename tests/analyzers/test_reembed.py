"""`svidok analyze --reembed`: after the face model changes, references and archived faces are
embedded again by the new one at their stored boxes; resumable, nothing twice, old rows kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from svidok.analyzers.face_spaces import dimension_of, space_of
from svidok.analyzers.faces import FaceOptions, detect_faces, load_image
from svidok.analyzers.models import embedder_class
from svidok.foundation.settings import AnalyzeSettings
from svidok.foundation.workspace import Workspace
from tests.matching.conftest import archive_clip, other_view, save_jpeg

pytestmark = pytest.mark.models
OLD, NEW = "dlib", "fusion"              # a workspace of before plug-in models, then the default


@pytest.fixture
def analysed_with_dlib(tmp_path, run_json, monkeypatch):  # noqa: ANN001, ANN201
    """A person enrolled, a photo and a clip of her archived, analysed and matched, all with dlib."""
    if not all(embedder_class(part).card.installed() for part in ("mobilefacenet", "fr_feature")):
        pytest.skip(f"{NEW} is not installed (make setup fetches its files)")
    from skimage import data

    monkeypatch.setenv("SVIDOK_ANALYZE_FACE_MODEL", OLD)

    astronaut = data.astronaut()
    run_json("init")
    person = run_json("person", "add", "--name", "Олександр Петренко")["id"]
    run_json("consent", "add", str(person), "--given-by", "Марія Петренко", "--relation", "mother",
             "--date", "2024-05-01", "--scope", "identification")
    reference = save_jpeg(astronaut, tmp_path / "reference.jpg")
    assert run_json("enroll", str(person), str(reference), "--no-search")[0]["status"] == "accepted"
    photo = save_jpeg(other_view(astronaut), tmp_path / "archive.jpg", quality=70)
    clip = archive_clip(tmp_path, astronaut)
    assert {r["status"] for r in run_json("ingest", "files", str(photo), str(clip))} == {"new"}
    assert run_json("analyze")["failed"] == 0
    assert run_json("match")["new_sightings"] == 2
    return person, photo


def _faces(ws: Workspace, model: str) -> list[tuple]:
    return ws.conn.execute("SELECT media_sha256, time_s, box, track_id, crop_sha256 FROM face WHERE model = ?"
                           " ORDER BY media_sha256, time_s, box", (model,)).fetchall()


def test_reembed_resumes_and_matching_follows_the_active_model(analysed_with_dlib, run_json, workspace_path,
                                                               monkeypatch) -> None:
    from svidok.matching import reembed

    person, photo = analysed_with_dlib
    monkeypatch.setenv("SVIDOK_ANALYZE_FACE_MODEL", NEW)
    new = space_of(NEW)
    waiting = run_json("match")
    assert waiting["candidates"] == 0                          # dlib's rows are not compared with the fusion's
    with Workspace.open(workspace_path) as ws:                 # and the command says what waits, and why
        dlib_faces = ws.conn.execute("SELECT COUNT(*) FROM face").scalar_one()
    assert waiting["reembed_pending"] == {"model": new.label, "references": 1, "faces": dlib_faces}
    assert run_json("status")["reembed_pending"]["faces"] == dlib_faces

    # a run stopped after its first media file (Ctrl-C), with a frame file of the clip gone meanwhile
    monkeypatch.setattr(reembed, "ESTIMATE_AFTER_FILES", 1)
    estimates: list[float] = []

    def stop_after_first_file(what: str, done: int, total: int) -> None:
        if what.startswith("media"):
            raise KeyboardInterrupt

    with Workspace.open(workspace_path) as ws:
        old = _faces(ws, space_of(OLD).model)
        plan = reembed.plan_reembed(ws)
        assert (len(plan.references), plan.face_count, len(plan.faces)) == (1, len(old), 2)
        with pytest.raises(KeyboardInterrupt):
            reembed.run_reembed(ws, on_step=stop_after_first_file, on_estimate=estimates.append)
        first_media = next(iter(plan.faces))
        assert {f[0] for f in _faces(ws, new.model)} == {first_media}
        frame = ws.conn.execute("SELECT a.path FROM face f JOIN artifact a ON a.sha256 = f.frame_sha256"
                                " WHERE f.frame_sha256 IS NOT NULL ORDER BY f.time_s DESC LIMIT 1").scalar_one()
        ws.path(frame).unlink()                                # that face is embedded from its crop instead
    assert len(estimates) == 1 and estimates[0] > 0

    done = run_json("analyze", "--reembed")
    assert (done["model"], done["references"], done["media"], done["failed"]) == (new.label, 0, 1, [])
    assert done["faces"] == len(old) - len(plan.faces[first_media])
    again = run_json("analyze", "--reembed")                   # nothing left: nothing twice
    assert (again["references"], again["faces"], again["media"]) == (0, 0, 0)

    with Workspace.open(workspace_path) as ws:
        twins = _faces(ws, new.model)
        assert twins == old                                    # one twin per face: same place, track and crop
        assert _faces(ws, space_of(OLD).model) == old                                      # the old rows are kept
        refs = ws.conn.execute("SELECT model, length(embedding) FROM reference ORDER BY id").fetchall()
        assert [tuple(r) for r in refs] == [(space_of(OLD).model, 128 * 4), (new.model, dimension_of(NEW) * 4)]
        assert "reference.reembed" in [e["action"] for e in ws.audit.entries()]
        stored = ws.conn.execute("SELECT f.embedding, f.box FROM face f JOIN media m ON m.sha256 = f.media_sha256"
                                 " WHERE f.model = ? AND f.time_s IS NULL", (new.model,)).fetchone()
    options = FaceOptions.from_settings(AnalyzeSettings(face_model=NEW))
    (analysed,) = detect_faces(load_image(photo), options)      # what analysing with the new model stores
    assert tuple(json.loads(stored[1])) == analysed.box
    assert np.allclose(np.frombuffer(stored[0], np.float32), analysed.embedding, atol=1e-5)

    matched = run_json("match")
    assert (matched["new_sightings"], matched["updated"]) == (0, 2)   # the same two sightings, now by the fusion
    assert matched["reembed_pending"] == {"model": new.label, "references": 0, "faces": 0}
    for sighting in run_json("sightings", "list"):
        face = next(r for r in sighting["reasons"] if r["kind"] == "face")
        assert face["model"] == new.label and sighting["person_id"] == person


def test_a_face_without_pixels_is_reported_not_invented(analysed_with_dlib, run_json, workspace_path,
                                                         monkeypatch) -> None:
    monkeypatch.setenv("SVIDOK_ANALYZE_FACE_MODEL", NEW)
    with Workspace.open(workspace_path) as ws:
        photo_media = ws.conn.execute("SELECT media_sha256 FROM face WHERE time_s IS NULL").scalar_one()
        for table, column in (("media", "sha256"), ("artifact", "source_sha256")):
            for (path,) in ws.conn.execute(f"SELECT path FROM {table} WHERE {column} = ?", (photo_media,)).fetchall():
                ws.path(path).unlink()
    done = run_json("analyze", "--reembed")
    assert done["media"] == 1 and [f["media_sha256"] for f in done["failed"]] == [photo_media]
    assert "re-analyze" in done["failed"][0]["error"]
    with Workspace.open(workspace_path) as ws:
        assert ws.conn.execute("SELECT count(*) FROM face WHERE model = ? AND media_sha256 = ?",
                               (space_of(NEW).model, photo_media)).scalar_one() == 0


def test_missing_model_files_say_which_command_installs_them(analysed_with_dlib, svidok_subprocess, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("SVIDOK_ANALYZE_FACE_MODEL", NEW)
    monkeypatch.setenv("SVIDOK_MODEL_DIR", str(tmp_path / "no-models"))      # a fresh process finds no files
    done = svidok_subprocess("analyze", "--reembed", "--json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error.startswith("model mobilefacenet is not installed") and "run `make setup`" in error
    person = json.loads(svidok_subprocess("person", "add", "--name", "Іван Коваль", "--json").stdout)["id"]
    svidok_subprocess("consent", "add", str(person), "--given-by", "Олена Коваль", "--relation", "wife",
                      "--date", "2024-05-01", "--scope", "identification", "--json", check=True)
    from skimage import data

    photo = save_jpeg(other_view(data.astronaut()), tmp_path / "p.jpg")
    enrolled = svidok_subprocess("enroll", str(person), str(photo), "--no-search", "--json")
    assert enrolled.returncode == 1 and "run `make setup`" in json.loads(enrolled.stdout)["error"]
