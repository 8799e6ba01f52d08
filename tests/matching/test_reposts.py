"""Family photos are not sightings: a reposted reference photo is a lead, never a candidate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from svidok.analyzers.near_duplicates import PerceptualAnalyzer
from svidok.foundation.workspace import Workspace
from svidok.matching.footage_views import reference_reposts
from svidok.pipeline import run_analysis
from tests.analyzers.near_duplicate_media import letterbox, watermark
from tests.matching.conftest import insert_faces, save_jpeg

pytestmark = pytest.mark.models

SEARCH_POST = "https://t.me/poisk_plennyh/5"


@pytest.fixture
def archive_photos(tmp_path: Path, astronaut: np.ndarray) -> dict[str, Path]:
    """The family's photo reposted by a "searching for..." channel, and a genuine other photo of him."""
    from PIL import Image

    other = Image.fromarray(astronaut).crop((110, 10, 340, 270)).rotate(-4, resample=Image.BICUBIC)
    other = np.asarray(other.resize((330, 373)), dtype=np.float32) * 1.1
    return {"repost": save_jpeg(letterbox(watermark(astronaut)), tmp_path / "repost.jpg", quality=60),
            "genuine": save_jpeg(np.clip(other, 0, 255).astype(np.uint8), tmp_path / "genuine.jpg")}


def ingest(run_json, workspace_path: Path, photos: dict[str, Path], analyze: bool = True) -> dict[str, str]:
    media = {name: run_json("ingest", "files", str(path), "--source-url",
                            SEARCH_POST if name == "repost" else "https://t.me/z_kanal/77")[0]["media_sha256"]
             for name, path in photos.items()}
    with Workspace.open(workspace_path) as ws:
        for name, path in photos.items():
            insert_faces(ws, media[name], path)
        if analyze:
            assert run_analysis(ws, [PerceptualAnalyzer()]).failed == 0
    return media


def check_only_genuine_is_queued(run_json, workspace_path: Path, person: int, media: dict[str, str]) -> None:
    queue = run_json("sightings", "list", "--status", "pending")
    assert [s["media_sha256"] for s in queue] == [media["genuine"]]
    with Workspace.open(workspace_path) as ws:
        [repost] = reference_reposts(ws, person)
    assert (repost.media_sha256, repost.person_id) == (media["repost"], person)
    assert [(c.url, c.channel) for c in repost.captures] == [(SEARCH_POST, None)]


def test_reference_enrolled_after_the_repost_was_archived(run_json, person_with_consent, photos, archive_photos,
                                                          workspace_path) -> None:
    person, _ = person_with_consent
    media = ingest(run_json, workspace_path, archive_photos)
    assert run_json("enroll", str(person), str(photos["reference"]))[0]["status"] == "accepted"
    check_only_genuine_is_queued(run_json, workspace_path, person, media)
    assert run_json("match")["new_sightings"] == 0


def test_repost_archived_after_enrollment_and_an_earlier_candidate_is_withdrawn(
        run_json, person_with_consent, photos, archive_photos, workspace_path) -> None:
    person, _ = person_with_consent
    run_json("enroll", str(person), str(photos["reference"]))
    media = ingest(run_json, workspace_path, archive_photos, analyze=False)
    assert run_json("match")["new_sightings"] == 2                 # not hashed yet: the repost looks like a sighting
    with Workspace.open(workspace_path) as ws:
        run_analysis(ws, [PerceptualAnalyzer()])
    run_json("match")
    check_only_genuine_is_queued(run_json, workspace_path, person, media)
    [withdrawn] = run_json("sightings", "list", "--status", "withdrawn")
    assert withdrawn["media_sha256"] == media["repost"]
    assert "repost of the family's reference photo" in withdrawn["evidence_note"]


def test_revoking_the_consent_forgets_where_the_photo_was_reposted(run_json, person_with_consent, photos,
                                                                   archive_photos, workspace_path) -> None:
    person, consent = person_with_consent
    ingest(run_json, workspace_path, archive_photos)
    run_json("enroll", str(person), str(photos["reference"]))
    with Workspace.open(workspace_path) as ws:
        assert len(reference_reposts(ws)) == 1
    run_json("consent", "revoke", str(consent))
    with Workspace.open(workspace_path) as ws:
        assert reference_reposts(ws) == []
        assert ws.conn.execute("SELECT count(*) FROM reference_repost").fetchone()[0] == 0
