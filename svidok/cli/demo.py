"""`svidok demo`: build a demo workspace, run the whole pipeline, then serve the review UI."""

from __future__ import annotations

import os
from pathlib import Path

import click

from svidok.cli.base import CommandContext, CommandError, common_options, stderr
from svidok.foundation.workspace import default_workspace_path

DEMO_DEFAULT = Path("demo-workspace")


def _show_queue(result) -> None:  # noqa: ANN001 - svidok.demo.build.DemoResult
    stderr.rule("candidate sightings (a human decides; a score is not an identification)")
    if not result.sightings:
        stderr.print("no candidate sightings")
    for sighting in result.sightings:
        stderr.print(f"#{sighting['id']}  person {sighting['person_id']}  score {sighting['score']:.2f}  "
                     f"media {sighting['media_sha256'][:12]}…")
        for reason in sighting["reasons"]:
            detail = ", ".join(f"{k}={v}" for k, v in reason.items() if k != "kind")
            stderr.print(f"    {reason['kind']}: {detail}")


@click.command()
@click.option("--no-serve", is_flag=True, help="Stop after printing the queue; do not start the review UI.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for the review UI.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port for the review UI.")
@common_options
def demo(cc: CommandContext, no_serve: bool, host: str, port: int) -> None:
    """Run Svidok's main job on generated material in a fresh demo workspace.

    Archives a small Russian "channel" export (posts, a photo, two clips in which a person
    says his name and unit), registers a missing person with the family's consent, enrolls a
    reference photo, analyzes, matches, prints the queue, creates demo accounts and starts the
    review UI. Uses ./demo-workspace unless --workspace is given; only an earlier demo
    workspace is ever replaced.

    Example:

        svidok demo --no-serve
    """
    from svidok.demo.build import DemoError, run_demo
    from svidok.review_ui.server import RemoteBindRefused, check_host

    try:
        check_host(host, allow_remote=False)
    except RemoteBindRefused as exc:
        raise CommandError(str(exc)) from None
    root = cc.workspace_path
    if root == default_workspace_path() and "SVIDOK_WORKSPACE" not in os.environ:
        root = DEMO_DEFAULT
    try:
        result = run_demo(root, lambda line: stderr.print(line))
    except DemoError as exc:
        raise CommandError(str(exc)) from None
    _show_queue(result)
    stderr.rule("demo accounts (shown once; change them for real use)")
    for name, password in result.passwords.items():
        stderr.print(f"{name:10s} {password}")
    cc.emit({"workspace": str(result.workspace), "sightings": len(result.sightings),
             "queue": result.sightings, "users": list(result.passwords)}, lambda _: None)
    if no_serve:
        return
    from svidok.review_ui.server import serve

    stderr.print(f"review UI: http://{host}:{port}/  (Ctrl+C to stop)")
    serve(result.workspace, host, port)


COMMANDS = [demo]
