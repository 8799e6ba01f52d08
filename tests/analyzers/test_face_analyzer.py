"""The `faces` analyzer end to end: real video and photo in a fresh workspace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers.base import MediaFile
from svidok.analyzers.face_analyzer import FaceAnalyzer, ScanPlan, faces_in_frames
from svidok.analyzers.face_spaces import dimension_of, space_of
from svidok.analyzers.faces import DetectedFace, FaceOptions, FaceQuality
from svidok.analyzers.frames import iter_frames
from svidok.analyzers.registry import default_analyzers
from svidok.analyzers.tracks import iou
from svidok.foundation.archive import Archive
from svidok.foundation.settings import AnalyzeSettings
from svidok.pipeline import AnalysisFailed, analyze_one
from tests.analyzers.test_frames import FPS, write_video

pytestmark = pytest.mark.models


def portrait() -> np.ndarray:
    """The astronaut's head and shoulders (her NASA patch left out), 220x240."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[20:260, 110:330])


def walking_frames(seconds: float) -> Iterable[np.ndarray]:
    """The portrait sliding slowly to the right across a 480x270 picture."""
    face = portrait()
    for i in range(int(seconds * FPS)):
        canvas = np.full((270, 480, 3), 60, np.uint8)
        x = 20 + i * 2
        canvas[15:255, x:x + 220] = face
        yield canvas


def store(ws, path: Path) -> MediaFile:  # noqa: ANN001 - Workspace
    stored = ws.media.put_file(path)
    Archive(ws, "test", "1").register_media(stored, path.name)
    return MediaFile(stored.sha256, ws.path(stored.relpath), stored.mime)


def test_video_gives_one_track_with_faces_crops_and_frames(fresh_workspace, tmp_path: Path) -> None:
    ws = fresh_workspace
    media = store(ws, write_video(tmp_path / "clip.mp4", walking_frames(3)))
    counts = analyze_one(ws, FaceAnalyzer(replace(AnalyzeSettings(), face_embed_every=1)), media)
    faces = ws.conn.execute("SELECT id, time_s, box, quality, embedding, crop_sha256, frame_sha256, track_id,"
                            " model, model_version FROM face WHERE media_sha256 = ?", (media.sha256,)).fetchall()
    assert counts["faces"] == len(faces) >= 4
    assert counts["tracks"] == 1
    default = AnalyzeSettings().face_model                                       # the settings' face model embeds
    assert all(len(row[4]) == dimension_of(default) * 4 for row in faces)
    assert {(row[8], row[9]) for row in faces} == {(space_of(default).model, space_of(default).version)}
    assert len({row[7] for row in faces}) == 1 and faces[0][7] is not None
    assert sorted(row[1] for row in faces) == [row[1] for row in faces]           # time order
    assert json.loads(faces[-1][2])[3] > json.loads(faces[0][2])[3]               # the face moved right
    assert set(json.loads(faces[0][3])) == {"size_px", "sharpness", "frontalness", "score"}
    track = ws.conn.execute("SELECT start_s, end_s, n_faces, embedding, best_face_ids, analyzer FROM track").fetchone()
    assert track[2] == len(faces) and track[0] == faces[0][1] and track[5] == "faces"
    assert len(json.loads(track[4])) == 3 and set(json.loads(track[4])) <= {row[0] for row in faces}
    first = np.frombuffer(faces[0][4], np.float32)
    assert float(np.linalg.norm(np.frombuffer(track[3], np.float32) - first)) < 0.3
    for column, kind in ((5, "crop"), (6, "frame")):
        artifact = ws.conn.execute("SELECT kind, source_sha256, path, producer, mime FROM artifact WHERE sha256 = ?",
                                   (faces[0][column],)).fetchone()
        assert artifact[:2] == (kind, media.sha256) and artifact[3] == "faces 1" and artifact[4] == "image/jpeg"
        assert ws.path(artifact[2]).is_file()


def test_photo_and_reanalysis_replace_earlier_rows(fresh_workspace, tmp_path: Path) -> None:
    from PIL import Image

    ws = fresh_workspace
    path = tmp_path / "photo.jpg"
    Image.fromarray(portrait()).save(path, quality=92)
    media = store(ws, path)
    analyzer = FaceAnalyzer()
    for _ in range(2):
        counts = analyze_one(ws, analyzer, media)
        assert counts == {"faces": 1, "tracks": 1, "frames": 0}
    rows = ws.conn.execute("SELECT time_s, frame_sha256, crop_sha256, track_id FROM face").fetchall()
    assert len(rows) == 1 and rows[0][0] is None and rows[0][1] is None and rows[0][3] is not None
    assert ws.conn.execute("SELECT COUNT(*) FROM track").fetchone()[0] == 1
    assert ws.conn.execute("SELECT COUNT(*) FROM artifact WHERE kind = 'crop'").fetchone()[0] == 1


def test_truncated_video_is_recorded_as_failed(fresh_workspace, tmp_path: Path) -> None:
    ws = fresh_workspace
    video = write_video(tmp_path / "clip.mp4", walking_frames(1))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:2000])
    media = store(ws, broken)
    with pytest.raises(AnalysisFailed):
        analyze_one(ws, FaceAnalyzer(), media)
    status, error = ws.conn.execute("SELECT status, error FROM analysis WHERE media_sha256 = ?",
                                    (media.sha256,)).fetchone()
    assert status == "failed" and "video" in error
    assert ws.conn.execute("SELECT COUNT(*) FROM face").fetchone()[0] == 0


def test_registered_in_default_analyzers() -> None:
    assert any(isinstance(a, FaceAnalyzer) for a in default_analyzers())


def test_scan_plan_searches_in_full_on_first_frame_cuts_every_nth_and_after_a_gap() -> None:
    plan = ScanPlan(full_scan_every=3)
    face = DetectedFace((10, 60, 60, 10), np.zeros(128, np.float32), FaceQuality(50, 100.0, 1.0, 0.8))
    kinds = []
    for time_s, cut in [(0.0, False), (0.5, False), (1.0, False), (1.5, False), (2.0, True), (2.5, False),
                        (14.0, False)]:
        focus = plan.focus(time_s, cut)
        kinds.append("full" if focus is None else f"focus{len(focus.regions)}")
        plan.saw([face])
    assert kinds == ["full", "focus1", "focus1", "full", "full", "focus1", "full"]
    assert all(ScanPlan(1).focus(t, False) is None for t in (0.0, 0.5))


def test_worker_processes_and_focused_search_find_what_full_search_in_process_finds(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", walking_frames(3))

    def run(full_scan_every: int, workers: int) -> list[tuple[float | None, list[DetectedFace]]]:
        frames = iter_frames(video, "video/mp4")
        return [(f.time_s, faces) for f, faces in faces_in_frames(frames, FaceOptions(full_scan_every=full_scan_every),
                                                                     workers)]

    reference, fast = run(1, 1), run(4, 2)
    assert [t for t, _ in fast] == [t for t, _ in reference] and len(reference) >= 4
    for (_, want), (_, got) in zip(reference, fast):
        assert len(got) == len(want) == 1
        assert iou(got[0].box, want[0].box) > 0.7
        assert float(np.linalg.norm(got[0].embedding - want[0].embedding)) < 0.2


def test_a_face_staying_in_place_is_embedded_every_nth_sampled_frame_and_stays_one_track(
        fresh_workspace, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", walking_frames(4))
    shipped = FaceOptions.from_settings(AnalyzeSettings())
    assert shipped.embed_every == 3
    every_frame = list(faces_in_frames(iter_frames(video, "video/mp4"), replace(shipped, embed_every=1)))
    sparse = list(faces_in_frames(iter_frames(video, "video/mp4"), shipped))
    assert [len(faces) for _, faces in sparse] == [len(faces) for _, faces in every_frame] == [1] * len(sparse)
    embedded = [faces[0].embedding is not None for _, faces in sparse]
    assert len(sparse) >= 6 and embedded[0] and sum(embedded) < len(embedded)
    gaps = [i for i, e in enumerate(embedded) if e]
    assert all(b - a <= 3 for a, b in zip(gaps, gaps[1:] + [len(embedded)]))      # never more than 2 skipped
    for (_, want), (_, got) in zip(every_frame, sparse):
        if got[0].embedding is not None:
            assert float(np.linalg.norm(got[0].embedding - want[0].embedding)) < 1e-4

    ws = fresh_workspace
    counts = analyze_one(ws, FaceAnalyzer(), store(ws, video))
    assert counts == {"faces": sum(embedded), "tracks": 1, "frames": sum(embedded)}
    assert ws.conn.execute("SELECT COUNT(*) FROM face WHERE track_id IS NULL").fetchone()[0] == 0


def test_a_scene_cut_ends_the_chains() -> None:
    plan = ScanPlan(full_scan_every=4)
    face = DetectedFace((10, 60, 60, 10), np.zeros(128, np.float32), FaceQuality(50, 100.0, 1.0, 0.8))
    plan.focus(0.0, False)
    plan.saw([face])
    assert len(plan.chains) == 1 and plan.chains[0].since_embedded == 0
    plan.focus(0.5, False)
    plan.saw([DetectedFace(face.box, None, face.quality)])
    assert plan.chains[0].since_embedded == 1
    plan.focus(1.0, True)
    assert plan.chains == ()


def test_no_worker_processes_are_forked_while_another_thread_runs(tmp_path: Path) -> None:
    import multiprocessing
    import threading

    video = write_video(tmp_path / "clip.mp4", walking_frames(2))

    def children_seen() -> bool:
        seen = False
        for _frame, _faces in faces_in_frames(iter_frames(video, "video/mp4"), FaceOptions(), workers=2):
            seen |= bool(multiprocessing.active_children())
        return seen

    assert children_seen()                               # nothing else running: two forked workers
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="speech-like")
    other.start()
    try:
        assert not children_seen()                        # a thread runs (e.g. speech): all in this process
    finally:
        release.set()
        other.join()
