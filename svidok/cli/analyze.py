"""`svidok analyze`: run the analyzers on archived media not yet done."""

from __future__ import annotations

import click
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr


@click.command()
@click.option("--reanalyze", is_flag=True, help="Analyze every file again, even if the current versions did it.")
@click.option("--enqueue", is_flag=True,
              help="Send one task per file to the workers (`svidok worker`, broker SVIDOK_BROKER_URL) instead.")
@click.option("--reembed", is_flag=True,
              help="Only embed references and archived faces of other face models again with the active one "
                   "(analyze.face_model), at their stored boxes; resumable.")
@common_options
def analyze(cc: CommandContext, reanalyze: bool, enqueue: bool, reembed: bool) -> None:
    """Find faces (with tracks) and transcribe speech in archived media not yet analyzed.

    One failing file is recorded with its error and the run goes on; rerunning resumes.
    With --enqueue the files are queued for the workers instead (a file already waiting in the
    queue is not queued twice) and the command prints how many.

    With --reembed, after `analyze.face_model` changed: the references and the archived faces
    that another model embedded get a twin embedded by the active model (boxes reused, nothing
    detected again; old rows kept, matching compares the active model's only). It estimates the
    time from its first files, can be stopped and rerun (it continues where it stopped), and
    prints {"model", "references", "faces", "media", "failed", "estimated_s", "seconds"}.

    Example:

        svidok analyze --json

        SVIDOK_ANALYZE_FACE_MODEL=fusion svidok analyze --reembed --json
    """
    if reembed:
        if reanalyze or enqueue:
            raise click.UsageError("--reembed runs alone (not with --reanalyze or --enqueue)")
        _reembed(cc)
        return
    from svidok.analyzers.models import BUILT_IN
    from svidok.analyzers.registry import default_analyzers
    from svidok.pipeline import pending_media, run_analysis

    if enqueue:
        _enqueue(cc, reanalyze)
        return
    with cc.workspace() as ws:
        from svidok.pipeline.analyze import yield_cpu

        yield_cpu(ws.settings.analyze.nice)
        analyzers = default_analyzers()
        total = sum(len(pending_media(ws, a, reanalyze)) for a in analyzers)
        if total and ws.settings.analyze.face_model == BUILT_IN and any(a.name == "faces" for a in analyzers):
            from svidok.analyzers.faces import slow_build_note      # only dlib's own embedder wants BLAS

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


def _reembed(cc: CommandContext) -> None:
    from svidok.matching.reembed import plan_reembed, run_reembed

    with cc.workspace() as ws:
        work = plan_reembed(ws)                      # an unknown analyze.face_model: one clear line
        total = len(work.references) + work.face_count
        stderr.print(f"re-embedding {len(work.references)} reference(s) and {work.face_count} face(s) in "
                     f"{len(work.faces)} file(s) with {work.space.label}")
        with cc.progress() as progress:
            task = progress.add_task("re-embedding", total=total)

            def step(what: str, done: int, _total: int) -> None:
                progress.update(task, completed=done, description=what)

            def estimate(seconds: float) -> None:
                stderr.print(f"estimated time for all of it: about {_duration(seconds)}")

            report = run_reembed(ws, on_step=step, on_estimate=estimate, work=work)      # ModelMissing: one line

    def show(data: dict) -> None:
        stderr.print(f"re-embedded {data['references']} reference(s) and {data['faces']} face(s) in {data['media']} "
                     f"file(s) with {data['model']} in {_duration(data['seconds'])}; {len(data['failed'])} failed")
        for failure in data["failed"]:
            stderr.print(f"[yellow]{failure.get('media_sha256', '')[:16] or failure.get('reference_id')}:[/] "
                         f"{failure['error']}")

    cc.emit(report.as_dict(), show)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


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
