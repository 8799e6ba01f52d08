"""A file whose worker dies every time (a decoder crash, the out-of-memory killer) is recorded as
failed after `broker.max_deliveries` deaths instead of killing workers for ever; the rest of the
queue is analyzed, and the next `svidok analyze --enqueue` gives the file another bounded try."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import redis

from svidok.foundation.workspace import Workspace
from svidok.pipeline.tasks import ANALYZE, DELIVERIES_PREFIX
from tests.workers.checks import analyses, analyzed_by, drained
from tests.workers.conftest import WorkerProcess, wait_until
from tests.workers.material import long_clip, write_media

DEATHS = 2


def _pool_processes(worker: WorkerProcess) -> list[int]:
    """The pids of the worker's pool processes (children of its main process)."""
    children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_file_that_kills_its_worker_every_time_is_given_up_with_the_reason(cli, start_worker, worker_env,
                                                                             workspace_path, tmp_path, broker_url):
    env = {**worker_env, "SVIDOK_BROKER_MAX_DELIVERIES": str(DEATHS)}
    clip, clip_sha = long_clip(tmp_path / "in")
    kinds = write_media(tmp_path / "small", plain=3, faces=1, videos=0)
    assert cli("init").returncode == 0
    assert cli("ingest", "files", str(clip), "--json", env=env).returncode == 0           # first in the queue
    assert cli("ingest", "files", str(tmp_path / "small"), "--json", env=env).returncode == 0
    assert json.loads(cli("analyze", "--enqueue", "--json", env=env).stdout)["enqueued"] == 5

    worker = start_worker("--concurrency", "1", env=env)
    for death in range(1, DEATHS + 1):                 # the clip "kills" the pool process each time
        wait_until(lambda death=death: analyzed_by(worker.log(), clip_sha) == death, 180, f"start {death}")
        for pid in _pool_processes(worker):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: f"giving up on {clip_sha}" in worker.log(), 180, "the clip given up")
    wait_until(lambda: drained(workspace_path), 300, "the rest of the queue analyzed")
    assert analyzed_by(worker.log(), clip_sha) == DEATHS                # never started a third time
    assert all(analyzed_by(worker.log(), sha) == 1 for sha in kinds)

    with Workspace.open(workspace_path) as ws:
        rows = analyses(ws)
        clip_rows = [status for sha, _, status in rows if sha == clip_sha]
        assert clip_rows and set(clip_rows) == {"failed"}
        assert {status for sha, _, status in rows if sha != clip_sha} == {"done"}
        errors = {r[0] for r in ws.conn.execute("SELECT error FROM analysis WHERE media_sha256 = ?", (clip_sha,))}
    assert len(errors) == 1 and f"died (crash, kill or out of memory) while analyzing this file {DEATHS} times" in \
        errors.pop()
    status = json.loads(cli("status", "--json", env=env).stdout)
    assert (status["analysis_failed"], status["analysis_pending"]) == (1, 0)
    counts = redis.Redis.from_url(broker_url)
    assert counts.exists(DELIVERIES_PREFIX + f"{ANALYZE}:{clip_sha}") == 0          # the next try starts afresh
    counts.close()

    # the next enqueue tries it again (failed files are pending), and now nothing kills it
    assert json.loads(cli("analyze", "--enqueue", "--json", env=env).stdout)["enqueued"] == 1
    wait_until(lambda: analyzed_by(worker.log(), clip_sha) == DEATHS + 1, 120, "the clip tried again")
    wait_until(lambda: _statuses(workspace_path, clip_sha) == {"done"}, 300, "the clip analyzed")


def _statuses(workspace: Path, sha256: str) -> set[str]:
    with Workspace.open(workspace) as ws:
        return {status for sha, _, status in analyses(ws) if sha == sha256}
