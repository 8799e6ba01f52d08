"""`svidok match` and `svidok sightings ...`: search for consented persons, the review queue."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from svidok.cli.base import CommandContext, common_options, stderr


@click.command()
@click.option("--person", "person_ids", type=int, multiple=True, help="Only search for this person; repeatable.")
@common_options
def match(cc: CommandContext, person_ids: tuple[int, ...]) -> None:
    """Match archived faces and transcripts/posts against persons with an active consent and
    queue new candidate sightings (re-running adds nothing twice).

    Example:

        svidok match --json
    """
    from svidok.matching.reembed import reembed_backlog
    from svidok.matching.sightings import run_match

    with cc.workspace() as ws:
        report = run_match(ws, list(person_ids) or None)
        backlog = reembed_backlog(ws)
    if backlog.waiting:
        stderr.print(escape(backlog.notice() or ""))

    cc.emit({"new_sightings": report.new_sightings, "updated": report.updated, "candidates": report.candidates,
             "persons": report.persons, "attached": report.attached, "reposts": report.reposts,
             "reembed_pending": backlog.as_dict()},
            lambda d: stderr.print(f"{d['new_sightings']} new candidate sighting(s) for {d['persons']} person(s)"))


@click.group()
def sightings() -> None:
    """Candidate sightings (possible matches) waiting for human review."""


@sightings.command("list")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["pending", "confirmed", "rejected", "withdrawn", "conflict"]),
              help="Only sightings with this status; repeatable.")
@click.option("--person", "person_id", type=int, default=None, help="Only this person's sightings.")
@click.option("--limit", type=int, default=1000, show_default=True, help="Most sightings to list.")
@common_options
def sightings_list(cc: CommandContext, statuses: tuple[str, ...], person_id: int | None, limit: int) -> None:
    """List candidate sightings, highest score (most likely) first.

    Example:

        svidok sightings list --status pending --json
    """
    from svidok.matching.sightings import list_sightings

    with cc.workspace() as ws:
        rows = [s.as_dict() for s in list_sightings(ws, statuses, person_id, limit)]

    def show(data: list[dict]) -> None:
        table = Table("id", "person", "media", "score", "status", "reasons", title="candidate sightings")
        for r in data:
            kinds = ", ".join(sorted({x["kind"] for x in r["reasons"]}))
            table.add_row(str(r["id"]), str(r["person_id"]), r["media_sha256"][:12], f"{r['score']:.2f}",
                          r["status"], kinds)
        stderr.print(table)

    cc.emit(rows, show)


@sightings.command("similar")
@click.argument("reference_id", type=int)
@click.option("--limit", type=int, default=None, help="How many faces (default: match.ranked_search_size).")
@common_options
def sightings_similar(cc: CommandContext, reference_id: int, limit: int | None) -> None:
    """The archived faces most like one reference photo, closest first (a ranked search for
    reviewers; these are possible matches, not identifications).

    Example:

        svidok sightings similar 4 --limit 20 --json
    """
    from svidok.matching.face_matcher import ranked_search

    with cc.workspace() as ws:
        rows = ranked_search(ws, reference_id, limit or ws.settings.match.ranked_search_size)

    def show(data: list[dict]) -> None:
        table = Table("face", "media", "time", "distance")
        for r in data:
            table.add_row(str(r["face_id"]), r["media_sha256"][:12], str(r["time_s"] or ""), f"{r['distance']:.3f}")
        stderr.print(table)

    cc.emit(rows, show)


COMMANDS = [match, sightings]
