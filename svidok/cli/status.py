"""`svidok status`: the archive and the work at a glance; `svidok places`: the detention-site gazetteer."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from svidok.cli.base import CommandContext, common_options, stderr


@click.command()
@click.option("--days", type=click.IntRange(min=0), default=14, show_default=True,
              help="List confirmed persons whose family has not been informed this many days after confirmation.")
@common_options
def status(cc: CommandContext, days: int) -> None:
    """Count media and their analysis, sightings per status and persons per step (missing,
    candidate, confirmed, reported, informed); list confirmed persons whose family has not
    been informed --days after the first confirmation. Where a broker is configured
    (SVIDOK_BROKER_URL), also the tasks waiting per queue, taken by workers, and the workers
    that answer; a broker that does not answer is reported and the rest is shown all the same.

    Example:

        svidok status --days 7 --json
    """
    from svidok.cases.person_status import uninformed_after
    from svidok.matching.reembed import reembed_backlog
    from svidok.pipeline.work_status import archive_status

    with cc.workspace() as ws:
        data: dict[str, Any] = archive_status(ws)
        data["uninformed_after_days"] = [u.__dict__ for u in uninformed_after(ws, days)]
        data["reembed_pending"] = reembed_backlog(ws).as_dict()
        broker = ws.settings.broker
    if broker.url:
        from svidok.pipeline.queue_status import queue_status

        data["queue"] = queue_status(broker).as_dict()
    cc.emit(data, lambda d: _show_status(d, days))


def _show_status(data: dict[str, Any], days: int) -> None:
    stderr.print(f"media {data['media']}: analyzed {data['analyzed']}, pending {data['analysis_pending']},"
                 f" failed {data['analysis_failed']}")
    stderr.print("sightings: " + ", ".join(f"{k} {v}" for k, v in data["sightings"].items()))
    stderr.print("persons: " + ", ".join(f"{k} {v}" for k, v in data["persons"].items()))
    if "queue" in data:
        _show_queue(data["queue"])
    backlog = data["reembed_pending"]
    if backlog["references"] or backlog["faces"]:
        stderr.print(escape(f"re-embedding: {backlog['references']} reference photo(s) and {backlog['faces']} archived "
                            f"face(s) wait for `svidok analyze --reembed` (not compared under {backlog['model']})"))
    if not data["uninformed_after_days"]:
        stderr.print(f"every confirmed person's family was informed within {days} days")
        return
    table = Table("person", "name", "step", "confirmed", "days", title=f"family not informed after {days} days")
    for u in data["uninformed_after_days"]:
        table.add_row(str(u["person_id"]), escape(u["name"]), u["step"], u["confirmed_at"][:10], str(u["days"]))
    stderr.print(table)


def _show_queue(queue: dict[str, Any]) -> None:
    if not queue["reachable"]:
        stderr.print(f"[bold red]queue:[/] {escape(queue['broker'])}: {escape(queue['error'])}")
        return
    waiting = ", ".join(f"{k} {v}" for k, v in queue["depth"].items())
    stderr.print(f"queue ({escape(queue['broker'])}): waiting {waiting}; taken by workers {queue['taken']}")
    stderr.print(f"workers: {len(queue['workers'])}" + (f" ({', '.join(queue['workers'])})" if queue["workers"] else ""))


@click.command()
@click.option("--find", "text", default=None, help="Instead of listing, show the sites this text mentions.")
@common_options
def places(cc: CommandContext, text: str | None) -> None:
    """List the detention sites of configs/detention_sites.toml (key, name, region, source), or
    show which of them a text mentions (as `svidok match` proposes them on sightings).

    Example:

        svidok places --find "его перевели в СИЗО-2 Таганрога" --json
    """
    from svidok.matching.places import find_sites, load_gazetteer

    gazetteer = load_gazetteer()
    if text is not None:
        found = [{**m.site.as_dict(), "text": m.text, "facility_word": m.facility_word}
                 for m in find_sites(gazetteer, text, "text")]
        cc.emit(found, lambda d: stderr.print("\n".join(escape(f"{s['key']}: «{s['text']}»") for s in d)
                                             or "no detention site mentioned"))
        return

    def show(rows: list[dict[str, Any]]) -> None:
        table = Table("key", "name", "region", "source")
        for s in rows:
            table.add_row(s["key"], escape(s["name"]), escape(s["region"]), escape(s["source"]))
        stderr.print(table)

    cc.emit([s.as_dict() for s in gazetteer.sites], show)


COMMANDS = [status, places]
