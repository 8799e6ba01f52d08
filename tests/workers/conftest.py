"""Real `svidok worker` processes against a real Redis (127.0.0.1:6379, or one a test starts).

Each test gets a Redis database of its own (`broker_url`: one of 8-15, claimed with a SET NX
key so that parallel runs do not share one, emptied before and after); the workers are
`svidok worker` subprocesses in a process group of their own, so that `kill9()` kills a
worker the way a machine dies: the main process and its pool at once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

OWNER_KEY = "svidok-test:owner"


def redis_available(port: int = 6379) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def broker_url() -> Iterator[str]:
    """redis://127.0.0.1:6379/N for a database N no other test run holds; emptied before and after."""
    import redis

    if not redis_available():
        pytest.fail("Redis is not listening on 127.0.0.1:6379 (the project's machines run it; see README, Workers)")
    token = uuid.uuid4().hex
    for number in range(15, 7, -1):
        client = redis.Redis(port=6379, db=number)
        if client.set(OWNER_KEY, token, nx=True, ex=1800):
            client.flushdb()
            client.set(OWNER_KEY, token, ex=1800)
            try:
                yield f"redis://127.0.0.1:6379/{number}"
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    pytest.fail("every Redis database 8-15 is held by another test run")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WorkerProcess:
    """One `svidok worker` subprocess; its stderr goes to a log file the test reads."""

    def __init__(self, log: Path, env: dict[str, str], *args: str) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "svidok.cli", "worker", *args], env=env, cwd=REPO,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}) before {text!r}:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in the worker's log after {timeout} s:\n{self.log()[-3000:]}")

    def kill9(self) -> None:
        """The whole worker (main process and pool) dies at once, as with a machine's power cut."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


@pytest.fixture
def worker_env(workspace_path: Path, broker_url: str) -> dict[str, str]:
    """The environment of workers and CLI runs: this test's workspace and broker, quick retries."""
    return {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path), "SVIDOK_BROKER_URL": broker_url,
            "SVIDOK_BROKER_RETRY_BACKOFF_MAX_S": "2", "SVIDOK_BROKER_MAX_RETRIES": "30",
            "SVIDOK_CONFIG": "/nonexistent", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def start_worker(tmp_path: Path, worker_env: dict[str, str]) -> Iterator[Callable[..., WorkerProcess]]:
    """start_worker(*args, env=None) -> a running `svidok worker`; every one is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started) + 1}.log", env or worker_env, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def cli(worker_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess]:
    """Run `svidok ARGS` in a subprocess with the workers' environment."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "svidok.cli", *args], env=env or worker_env, cwd=REPO,
                              capture_output=True, text=True, timeout=300, check=False)

    return run


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not after {timeout} s")
