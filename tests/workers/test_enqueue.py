"""`--enqueue`: what is sent, what `status` shows of the queue, and the usage errors."""

from __future__ import annotations

import json
import os

from svidok.foundation.workspace import Workspace
from tests.collectors.fake_tme_server import FakeTelegram
from tests.collectors.test_tme_web import guard  # noqa: F401 - fixture: no request may leave 127.0.0.1
from tests.workers.conftest import wait_until

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
                   "SVIDOK_COLLECT_RETRIES", "SVIDOK_COLLECT_DOWNLOAD_TIMEOUT_S")


def test_collect_all_enqueue_sends_one_task_per_source_and_a_worker_collects(guard, cli, start_worker,  # noqa: F811
                                                                             worker_env, workspace_path, tmp_path):
    env = {**worker_env, **{k: os.environ[k] for k in PROXY_VARIABLES}}
    site = FakeTelegram()
    site.start()
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[source]]\nkind = "telegram-web"\ntarget = "testchan"\nlanguage = "uk"\n'
                           f'base_url = "{site.base}"\nmax_pages = 5\n\n'
                           f'[[source]]\nkind = "nope"\ntarget = "broken"\n')
        assert cli("init", env=env).returncode == 0
        sent = cli("collect", "--all", "--enqueue", "--sources", str(sources), "--json", env=env)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout) == {"enqueued": 2, "already_queued": 0, "queue": "collect"}
        assert site.requests == []                                       # nothing collected in-process
        status = json.loads(cli("status", "--json", env=env).stdout)
        assert status["queue"]["depth"] == {"analyze": 0, "collect": 2, "match": 0}

        worker = start_worker("--queues", "collect", "--concurrency", "1", env=env)
        wait_until(lambda: worker.log().count("svidok.collect_source") >= 4, 120, "both sources collected")
        with Workspace.open(workspace_path) as ws:
            items = ws.conn.execute("SELECT COUNT(*) FROM item WHERE source_kind = 'telegram-web'").fetchone()[0]
            state = dict(ws.conn.execute("SELECT source_key, last_status FROM source_state").fetchall())
        assert items == 29 and state == {"telegram-web:testchan": "ok", "nope:broken": "failed"}
        status = json.loads(cli("status", "--json", env=env).stdout)
        assert status["queue"]["depth"]["collect"] == 0 and status["media"] > 0
        assert status["queue"]["workers"] and status["queue"]["workers"][0].startswith("svidok-")
        again = json.loads(cli("collect", "--all", "--enqueue", "--sources", str(sources), "--json", env=env).stdout)
        assert again["enqueued"] == 2                                   # done tasks may be sent again
    finally:
        site.stop()


def test_enqueue_without_a_broker_is_a_usage_error(cli, worker_env, tmp_path):
    env = {k: v for k, v in worker_env.items() if k != "SVIDOK_BROKER_URL"}
    assert cli("init", env=env).returncode == 0
    for args in (("analyze", "--enqueue", "--json"), ("collect", "--all", "--enqueue", "--json"),
                 ("worker", "--json")):
        done = cli(*args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert json.loads(done.stdout) == {"error": "no broker configured: set SVIDOK_BROKER_URL "
                                                    "(e.g. redis://127.0.0.1:6379/0)"}
        assert "SVIDOK_BROKER_URL" in done.stderr
    assert "queue" not in json.loads(cli("status", "--json", env=env).stdout)
    assert cli("collect", "--enqueue", env=env).returncode == 2                   # --enqueue goes with --all
    bad = cli("worker", "--queues", "analyze,nope", env=worker_env)
    assert bad.returncode == 2 and "unknown queue(s) nope" in bad.stderr


def test_analyze_enqueue_prints_what_it_queued(cli, worker_env, tmp_path):
    from tests.workers.material import write_media

    write_media(tmp_path / "in", plain=5, faces=0, videos=1)
    assert cli("init").returncode == 0
    assert cli("ingest", "files", str(tmp_path / "in")).returncode == 0
    human = cli("analyze", "--enqueue")
    assert human.returncode == 0 and "queued 6 file(s) for analysis (0 already waiting)" in human.stderr
    assert json.loads(cli("analyze", "--enqueue", "--json").stdout)["enqueued"] == 0
    assert json.loads(cli("analyze", "--enqueue", "--reanalyze", "--json").stdout)["already_queued"] == 6
    status = json.loads(cli("status", "--json").stdout)
    assert status["queue"]["depth"] == {"analyze": 6, "collect": 0, "match": 0} and status["queue"]["taken"] == 0
    assert status["queue"]["workers"] == [] and status["analysis_pending"] == 6
