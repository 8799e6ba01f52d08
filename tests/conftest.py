"""Shared fixtures: a fresh workspace, the CLI run in-process, the shared evaluation data.

The database backend: SQLite in each test's workspace folder by default. With
`SVIDOK_TEST_DATABASE=postgresql` the whole suite runs on PostgreSQL instead
(`SVIDOK_TEST_POSTGRESQL_URL`, default postgresql://postgres@127.0.0.1:5432/test, names the server
and a database to connect to first): each test gets a fresh database copied from a template
migrated once per test session, named by SVIDOK_DATABASE_URL for the test and its subprocesses,
dropped afterwards with the template at the end. An unreachable server skips the run with the
reason, or fails it where SVIDOK_TEST_REQUIRE_POSTGRESQL=1 (CI). Tests about SQLite's own files
are marked `sqlite_only`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from svidok.foundation.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
BACKEND = os.environ.get("SVIDOK_TEST_DATABASE", "sqlite")
POSTGRESQL_SERVER = os.environ.get("SVIDOK_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite's own files or legacy schema; skipped on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "sqlite":
        skip = pytest.mark.skip(reason=f"about SQLite itself; this run is on {BACKEND}")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgresql_template() -> Iterator[str | None]:
    """On a PostgreSQL run: a migrated template database for this session (dropped at the end)."""
    if BACKEND == "sqlite":
        yield None
        return
    from tests.postgresql import PostgreSQLServer

    server = PostgreSQLServer.reach(POSTGRESQL_SERVER)
    template = server.create_template()
    yield template
    server.drop(template)


@pytest.fixture(scope="module")
def module_database(postgresql_template: str | None) -> Iterator[str]:
    """One database for a whole test module whose workspace is module-scoped (the demo's): the
    tests of such a module ask for this fixture and keep its database instead of a fresh one."""
    if postgresql_template is None:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("SVIDOK_DATABASE_URL", raising=False)
            yield "sqlite"
        return
    from tests.postgresql import PostgreSQLServer

    with PostgreSQLServer.reach(POSTGRESQL_SERVER).fresh(postgresql_template) as url, \
            pytest.MonkeyPatch.context() as patch:
        patch.setenv("SVIDOK_DATABASE_URL", url)
        yield url


@pytest.fixture(autouse=True)
def database_backend(request: pytest.FixtureRequest, postgresql_template: str | None,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test's own database: SQLite in its workspace, or a fresh PostgreSQL database."""
    if "module_database" in request.fixturenames:
        yield "sqlite" if postgresql_template is None else "postgresql"
        return
    if postgresql_template is None:
        monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)
        yield "sqlite"
        return
    from tests.postgresql import PostgreSQLServer

    with PostgreSQLServer.reach(POSTGRESQL_SERVER).fresh(postgresql_template) as url:
        monkeypatch.setenv("SVIDOK_DATABASE_URL", url)
        yield "postgresql"


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def fresh_workspace(workspace_path: Path):
    """An initialised workspace in a temporary folder."""
    ws = Workspace.create(workspace_path)
    yield ws
    ws.close()


@pytest.fixture
def another_database(postgresql_template: str | None):  # noqa: ANN201 - Settings
    """Settings for a second workspace with a database of its own (another organisation's)."""
    import dataclasses

    from svidok.foundation.settings import DatabaseSettings, load_settings

    settings = load_settings(environ={})
    if postgresql_template is None:
        yield settings
        return
    from tests.postgresql import PostgreSQLServer

    with PostgreSQLServer.reach(POSTGRESQL_SERVER).fresh(postgresql_template) as url:
        yield dataclasses.replace(settings, database=DatabaseSettings(url=url))


@pytest.fixture
def run_cli(workspace_path: Path) -> Callable[..., Result]:
    """Run `svidok ARGS --workspace <tmp ws>` in-process; returns click's Result."""
    from svidok.cli.main import main

    def run(*args: str, input: str | None = None, workspace: bool = True) -> Result:
        argv = ["--workspace", str(workspace_path), *args] if workspace else list(args)
        return CliRunner().invoke(main, argv, input=input, catch_exceptions=False)

    return run


@pytest.fixture
def run_json(run_cli):
    """Run a command with --json and return the parsed document (asserting exit code 0, or `exit_code`)."""

    def run(*args: str, expect_ok: bool = True, input: str | None = None, exit_code: int = 0):
        result = run_cli(*args, "--json", input=input)
        if expect_ok:
            assert result.exit_code == exit_code, result.output
        return json.loads(result.stdout)

    return run


@pytest.fixture
def svidok_subprocess(workspace_path: Path):
    """Run the installed `svidok` in a subprocess (for crash tests)."""

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path)}
        return subprocess.run([sys.executable, "-m", "svidok.cli", *args], env=env, capture_output=True, text=True,
                              cwd=REPO, **kwargs)

    return run


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (evaluation data is not part of the repository)")
    return SHARED_DATA


@contextmanager
def serving(app) -> Iterator[str]:  # noqa: ANN001 - an ASGI app
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
