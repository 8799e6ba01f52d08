"""`svidok worker`: a Celery worker that analyzes, collects and searches for the tasks others queue.

Also what `--enqueue` (svidok/cli/analyze.py, svidok/cli/collect.py) shares with it: the
broker from SVIDOK_BROKER_URL (setting broker.url), and exit 2 when there is none.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import TYPE_CHECKING

import click

from svidok.cli.base import CommandContext, common_options, stderr

if TYPE_CHECKING:
    from celery import Celery

    from svidok.foundation.settings import Settings


def broker_app(cc: CommandContext, settings: Settings | None = None) -> Celery:
    """The Celery app of the configured broker; a usage error (exit 2) when none is configured."""
    from svidok.foundation.settings import load_settings
    from svidok.pipeline.tasks import BrokerError, make_app

    if settings is None:
        root = cc.workspace_path if cc.workspace_path.is_dir() else None
        settings = load_settings(root)
    try:
        return make_app(settings.broker)
    except BrokerError as exc:
        if cc.json:
            click.echo(json.dumps({"error": str(exc)}))
        stderr.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)


@click.command()
@click.option("--queues", default="analyze,collect,match", show_default=True,
              help="Queues to take tasks from, comma-separated (analyze, collect, match).")
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Processes working at once (default: the number of CPU cores). Each loads its models once.")
@common_options
def worker(cc: CommandContext, queues: str, concurrency: int | None) -> None:
    """Take tasks from the broker (SVIDOK_BROKER_URL) and do them on this machine's copy of the
    workspace (a mounted shared folder, or the shared database): analyze one media file, collect
    one source, search the archive for one enrolled reference. Runs until stopped (Ctrl-C or
    SIGTERM finish the tasks at hand first).

    A task is acknowledged only when done: if this worker dies, another one gets it again (after
    broker.visibility_timeout_s). A workspace or broker that is not there yet is waited for.

    Example:

        SVIDOK_BROKER_URL=redis://127.0.0.1:6379/0 svidok worker --workspace /mnt/svidok --concurrency 2
    """
    from svidok.foundation.workspace import Workspace, WorkspaceError
    from svidok.pipeline.tasks import QUEUES, configure_worker, masked

    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown or not wanted:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown) or '(none)'}; use {', '.join(QUEUES)}",
                                 param_hint="--queues")
    app = broker_app(cc)
    try:
        Workspace.open(cc.workspace_path).close()
    except WorkspaceError as exc:
        stderr.print(f"[yellow]waiting:[/] {exc}; tasks are retried until it is there", soft_wrap=True)
    configure_worker(cc.workspace_path)
    from svidok.matching.vector_quantized import expect_many_searches

    expect_many_searches()                          # retroactive searches: large indexes through their int8 copy
    from svidok.foundation.settings import load_settings
    from svidok.pipeline.analyze import yield_cpu

    yield_cpu(load_settings(cc.workspace_path if cc.workspace_path.exists() else None).analyze.nice)
    processes = concurrency or os.cpu_count() or 1
    name = f"svidok-{os.getpid()}@{socket.gethostname()}"
    stderr.print(f"worker {name}: queues {','.join(wanted)}, {processes} process(es), broker "
                 f"{masked(app.conf.broker_url)}, workspace {cc.workspace_path}", soft_wrap=True)
    # no mingle, gossip or heartbeat events: workers need not know each other, and at 100 machines
    # they would broadcast to each other every 2 s; `svidok status` finds workers by a ping
    runner = app.Worker(hostname=name, queues=wanted, concurrency=processes, pool="prefork", quiet=True,
                        loglevel="DEBUG" if cc.debug else "INFO", optimization="fair", without_mingle=True,
                        without_gossip=True, without_heartbeat=True)
    runner.start()
    sys.exit(runner.exitcode or 0)


COMMANDS = [worker]
