"""`kill -9` of a worker in the middle of a file: another worker analyzes it; nothing lost, nothing twice."""

from __future__ import annotations

import json
import time

from svidok.foundation.workspace import Workspace
from tests.workers.checks import analyses, analyzed_by, drained, duplicates, expected_analyses
from tests.workers.conftest import wait_until
from tests.workers.material import long_clip, write_media


def _enroll_the_person_in_the_clip(cli, tmp_path) -> int:
    from svidok.demo.material import reference_photo

    person = json.loads(cli("person", "add", "--name", "Петренко Олександр Іванович", "--json").stdout)["id"]
    consent = cli("consent", "add", str(person), "--given-by", "Петренко Ганна", "--relation", "mother",
                  "--date", "2024-03-10", "--scope", "identification", "--json")
    assert consent.returncode == 0, consent.stderr
    enrolled = cli("enroll", str(person), str(reference_photo(tmp_path / "family.jpg")), "--no-search", "--json")
    assert json.loads(enrolled.stdout)[0]["status"] == "accepted", enrolled.stdout
    return person


def test_a_file_whose_worker_is_killed_is_analyzed_by_another(cli, start_worker, worker_env, workspace_path,
                                                             tmp_path, broker_url):
    env = {**worker_env, "SVIDOK_BROKER_VISIBILITY_TIMEOUT_S": "30"}
    clip, clip_sha = long_clip(tmp_path / "in")
    kinds = write_media(tmp_path / "small", plain=8, faces=2, videos=0)
    assert cli("init").returncode == 0
    person = _enroll_the_person_in_the_clip(cli, tmp_path)
    assert cli("ingest", "files", str(clip), "--json", env=env).returncode == 0           # first in the queue
    assert cli("analyze", "--enqueue", "--json", env=env).returncode == 0
    assert cli("ingest", "files", str(tmp_path / "small"), "--json", env=env).returncode == 0
    assert json.loads(cli("analyze", "--enqueue", "--json", env=env).stdout)["enqueued"] == 10

    doomed = start_worker("--concurrency", "1", env=env)
    doomed.wait_for(f"analyzing {clip_sha}", 120)
    time.sleep(2.0)
    with Workspace.open(workspace_path) as ws:
        done_before = {(sha, a) for sha, a, s in analyses(ws) if sha == clip_sha and s == "done"}
    doomed.kill9()
    with Workspace.open(workspace_path) as ws:
        wanted = {(sha, a) for sha, a in expected_analyses(ws) if sha == clip_sha}
    assert done_before < wanted, "the kill came in the middle of the clip, not after it"

    survivor = start_worker("--concurrency", "1", env=env)
    wait_until(lambda: drained(workspace_path), 400, "the queue drained after the kill")
    log = survivor.log()
    assert analyzed_by(log, clip_sha) >= 1 and f"'media_sha256': '{clip_sha}', 'done': [" in log
    assert all(analyzed_by(log, sha) == 1 for sha in kinds)

    searched = cli("status", "--json", env=env)
    assert json.loads(searched.stdout)["analysis_pending"] == 0
    from svidok.foundation.settings import load_settings
    from svidok.pipeline.enqueue import enqueue_reference_searches
    from svidok.pipeline.tasks import make_app

    app = make_app(load_settings(None, env).broker)
    with Workspace.open(workspace_path) as ws:
        reference = ws.conn.execute("SELECT id FROM reference WHERE person_id = ?", (person,)).fetchone()[0]
    done_line = f"'reference_id': {reference}, 'person_id': {person}, 'new_sightings': "
    for run in (1, 2):                          # the retroactive search, twice: the second adds nothing
        assert enqueue_reference_searches(app, [reference]).enqueued == 1
        wait_until(lambda run=run: survivor.log().count(done_line) == run, 120, f"search {run} done")
    assert survivor.log().count(done_line + "0,") == 1
    with Workspace.open(workspace_path) as ws:
        rows = analyses(ws)
        assert len(rows) == len(expected_analyses(ws)) and {s for *_, s in rows} == {"done"}
        assert duplicates(ws) == {"faces": [], "transcripts": [], "tracks": [], "sightings": []}
        assert ws.conn.execute("SELECT COUNT(*) FROM face WHERE media_sha256 = ?", (clip_sha,)).fetchone()[0] > 0
        assert ws.conn.execute("SELECT COUNT(*) FROM transcript_segment WHERE media_sha256 = ?",
                               (clip_sha,)).fetchone()[0] > 0
        sightings = ws.conn.execute("SELECT media_sha256 FROM sighting WHERE person_id = ?", (person,)).fetchall()
    assert (clip_sha,) in sightings
    verify = json.loads(cli("audit", "verify", "--json").stdout)
    assert verify["ok"] is True
