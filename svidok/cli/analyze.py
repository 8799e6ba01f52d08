"""`svidok analyze`: run the analyzers on archived media not yet done."""

from __future__ import annotations

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.command()
@click.option("--reanalyze", is_flag=True, help="Analyze every file again, even if the current versions did it.")
@click.option("--enqueue", is_flag=True,
              help="Send one task per file to the workers (`svidok worker`, broker SVIDOK_BROKER_URL) instead.")
@common_options
def analyze(cc: CommandContext, reanalyze: bool, enqueue: bool) -> None:
    """Find faces (with tracks) and transcribe speech in archived media not yet analyzed.

    One failing file is recorded with its error and the run goes on; rerunning resumes.
    With --enqueue the files are queued for the workers instead (a file already waiting in the
    queue is not queued twice) and the command prints how many.

    Example:

        svidok analyze --json
    """
    from svidok.analyzers.registry import default_analyzers
    from svidok.pipeline import pending_media, run_analysis

    if enqueue:
        _enqueue(cc, reanalyze)
        return
    with cc.workspace() as ws:
        analyzers = default_analyzers()
        total = sum(len(pending_media(ws, a, reanalyze)) for a in analyzers)
        if total and any(a.name == "faces" for a in analyzers):
            from svidok.analyzers.faces import slow_build_note

            if note := slow_build_note():
                stderr.print(note)
        with cc.progress() as progress:
            task = progress.add_task("analyzing", total=total)

            def step(name: str, media) -> None:  # noqa: ANN001
                progress.update(task, advance=1, description=f"{name}: {media.sha256[:12]}")

            report = run_analysis(ws, analyzers, reanalyze, on_file=step)

    def show(data: dict) -> None:
        stderr.print(f"analyzed {data['analyzed']} file(s), failed {data['failed']}; faces {data['faces']}, "
                     f"tracks {data['tracks']}, transcript segments {data['transcripts']}")
        if data["errors"]:
            table = Table("media", "analyzer", "error", title="failed files")
            for e in data["errors"]:
                table.add_row(e["media_sha256"][:16], e["analyzer"], e["error"])
            stderr.print(table)

    cc.emit(report.as_dict(), show)


def _enqueue(cc: CommandContext, reanalyze: bool) -> None:
    from svidok.cli.worker import broker_app
    from svidok.pipeline.enqueue import BrokerUnreachable, enqueue_analysis

    with cc.workspace() as ws:
        app = broker_app(cc, ws.settings)
        try:
            sent = enqueue_analysis(ws, app, reanalyze)
        except BrokerUnreachable as exc:
            raise CommandError(str(exc)) from None
    cc.emit(sent.as_dict(), lambda d: stderr.print(f"queued {d['enqueued']} file(s) for analysis"
                                                   f" ({d['already_queued']} already waiting)"))


COMMANDS = [analyze]
