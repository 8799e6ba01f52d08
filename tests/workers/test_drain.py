"""Two real `svidok worker` processes drain a queue of 60 media: each file analyzed exactly once."""

from __future__ import annotations

import json

from svidok.foundation.workspace import Workspace
from tests.workers.checks import analyses, analyzed_by, drained, duplicates, expected_analyses
from tests.workers.conftest import wait_until
from tests.workers.material import write_media


def test_two_workers_drain_the_queue_each_file_once(cli, start_worker, workspace_path, tmp_path):
    kinds = write_media(tmp_path / "in", plain=46, faces=10, videos=4)
    assert cli("init").returncode == 0
    ingested = json.loads(cli("ingest", "files", str(tmp_path / "in"), "--json").stdout)
    assert sum(r["status"] == "new" for r in ingested) == len(kinds) == 60

    queued = json.loads(cli("analyze", "--enqueue", "--json").stdout)
    assert queued["enqueued"] == 60
    again = json.loads(cli("analyze", "--enqueue", "--json").stdout)          # nothing sent twice while waiting
    assert (again["enqueued"], again["already_queued"]) == (0, 60)
    status = json.loads(cli("status", "--json").stdout)
    assert status["queue"]["depth"]["analyze"] == 60 and status["analysis_pending"] == 60

    workers = [start_worker("--concurrency", "1"), start_worker("--concurrency", "1")]
    wait_until(lambda: drained(workspace_path), 400, "the queue drained")

    logs = [w.log() for w in workers]
    assert all("succeeded" in log for log in logs), "both workers took tasks"
    for sha in kinds:
        assert sum(analyzed_by(log, sha) for log in logs) == 1, sha
    with Workspace.open(workspace_path) as ws:
        rows = analyses(ws)
        assert len(rows) == len({(sha, name) for sha, name, _ in rows}) == len(expected_analyses(ws))
        assert {status for *_, status in rows} == {"done"}
        assert duplicates(ws) == {"faces": [], "transcripts": [], "tracks": [], "sightings": []}
        faces = dict(ws.conn.execute("SELECT media_sha256, COUNT(*) FROM face GROUP BY media_sha256").fetchall())
    assert all(faces.get(sha, 0) >= 1 for sha, kind in kinds.items() if kind == "face")
    status = json.loads(cli("status", "--json").stdout)
    assert (status["analyzed"], status["analysis_pending"], status["queue"]["depth"]["analyze"]) == (60, 0, 0)
    assert sorted(status["queue"]["workers"]) == sorted(
        line.split()[1].rstrip(":") for log in logs for line in log.splitlines() if line.startswith("worker svidok-"))
