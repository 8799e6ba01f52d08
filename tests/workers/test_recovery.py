"""A worker started before its workspace exists, and a broker that goes away for a few seconds:
clear errors, and the work goes on once they are back, with nobody restarting anything."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from svidok.foundation.settings import load_settings
from svidok.pipeline.tasks import ANALYZE, make_app
from tests.workers.checks import drained
from tests.workers.conftest import free_port, wait_until
from tests.workers.material import write_media


def test_a_worker_started_before_the_workspace_waits_for_it(cli, start_worker, worker_env, workspace_path, tmp_path):
    kinds = write_media(tmp_path / "in", plain=3, faces=1, videos=0)
    worker = start_worker("--concurrency", "1")
    worker.wait_for("ready", 60)
    assert f"waiting: no workspace at {workspace_path}" in worker.log()
    app = make_app(load_settings(None, worker_env).broker)
    for sha in kinds:                      # tasks for files the archive does not hold yet (content-addressed)
        app.send_task(ANALYZE, args=[sha, False])
    worker.wait_for("retry 2/30", 60)
    assert "no workspace at" in worker.log()
    time.sleep(1)
    assert cli("init").returncode == 0
    assert cli("ingest", "files", str(tmp_path / "in"), "--json").returncode == 0
    wait_until(lambda: drained(workspace_path), 120, "the early tasks done once the workspace exists")
    assert all(f"'media_sha256': '{sha}', 'done': [" in worker.log() for sha in kinds)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own on a free port (nothing on disk), which the test may stop and start."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    procs: list[subprocess.Popen] = []

    def start() -> None:
        procs.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(tmp_path)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until(lambda: _answers(port), 10, "redis-server up")

    def stop() -> None:
        procs[-1].kill()
        procs[-1].wait(10)

    start()
    yield port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def test_a_broker_that_goes_away_for_a_few_seconds(cli, start_worker, worker_env, workspace_path, tmp_path,
                                                   own_redis):
    port, start_redis, stop_redis = own_redis
    env = {**worker_env, "SVIDOK_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    first = write_media(tmp_path / "first", plain=3, faces=0, videos=0)
    assert cli("init", env=env).returncode == 0
    worker = start_worker("--concurrency", "1", env=env)
    worker.wait_for("ready", 60)
    assert cli("ingest", "files", str(tmp_path / "first"), env=env).returncode == 0
    assert json.loads(cli("analyze", "--enqueue", "--json", env=env).stdout)["enqueued"] == len(first)
    wait_until(lambda: drained(workspace_path), 120, "the first files analyzed")

    stop_redis()
    second = write_media(tmp_path / "second", plain=4, faces=0, videos=0, first_seed=2000)
    assert cli("ingest", "files", str(tmp_path / "second"), env=env).returncode == 0
    refused = cli("analyze", "--enqueue", "--json", env=env)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"].startswith(f"broker unreachable at redis://127.0.0.1:{port}/0")
    status = cli("status", "--json", env=env)
    assert status.returncode == 0
    data = json.loads(status.stdout)
    assert data["queue"]["reachable"] is False and "broker unreachable" in data["queue"]["error"]
    assert (data["media"], data["analysis_pending"]) == (7, 4)                   # the archive's part all the same
    worker.wait_for("Cannot connect to redis", 30)                             # says so, keeps trying
    time.sleep(3)
    assert worker.proc.poll() is None

    start_redis()
    worker.wait_for("Connected to redis", 60)
    assert json.loads(cli("analyze", "--enqueue", "--json", env=env).stdout)["enqueued"] == len(second)
    wait_until(lambda: drained(workspace_path), 120, "the files queued after the broker came back")
    assert all(f"'media_sha256': '{sha}', 'done': [" in worker.log() for sha in second)
