"""`svidok status`: the archive and the work at a glance; `svidok places`: the detention-site gazetteer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from svidok.cli.base import CommandContext, common_options, stderr

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace


def media_counts(ws: Workspace) -> dict[str, int]:
    """media; analyzed (nothing left for the current analyzers); analysis_failed; analysis_pending."""
    try:
        from svidok.analyzers.registry import default_analyzers
        from svidok.pipeline import pending_media

        analyzers = default_analyzers()
    except ImportError:                     # analysis extras not installed: judge by the analysis table alone
        analyzers = []
    total = ws.conn.execute("SELECT COUNT(*) FROM media").fetchone()[0]
    if analyzers:
        current = " OR ".join("(analyzer = ? AND version = ?)" for _ in analyzers)
        args = [x for a in analyzers for x in (a.name, a.version)]
        failed = {r[0] for r in ws.conn.execute(
            f"SELECT DISTINCT media_sha256 FROM analysis WHERE status = 'failed' AND ({current})", args)}
        pending = {m.sha256 for a in analyzers for m in pending_media(ws, a)} - failed
    else:
        failed = {r[0] for r in ws.conn.execute("SELECT DISTINCT media_sha256 FROM analysis WHERE status = 'failed'")}
        pending = {r[0] for r in ws.conn.execute(
            "SELECT sha256 FROM media m WHERE NOT EXISTS (SELECT 1 FROM analysis a WHERE a.media_sha256 = m.sha256)")}
    return {"media": total, "analyzed": total - len(failed) - len(pending), "analysis_failed": len(failed),
            "analysis_pending": len(pending)}


def sighting_counts(ws: Workspace) -> dict[str, int]:
    from svidok.matching.sightings import STATUSES

    counts = dict.fromkeys(STATUSES, 0)
    for status, n in ws.conn.execute("SELECT status, COUNT(*) FROM sighting GROUP BY status"):
        counts[status] = n
    return counts


@click.command()
@click.option("--days", type=click.IntRange(min=0), default=14, show_default=True,
              help="List confirmed persons whose family has not been informed this many days after confirmation.")
@common_options
def status(cc: CommandContext, days: int) -> None:
    """Count media and their analysis, sightings per status and persons per step (missing,
    candidate, confirmed, reported, informed); list confirmed persons whose family has not
    been informed --days after the first confirmation.

    Example:

        svidok status --days 7 --json
    """
    from svidok.cases.person_status import step_counts, uninformed_after

    with cc.workspace() as ws:
        data: dict[str, Any] = {**media_counts(ws), "sightings": sighting_counts(ws), "persons": step_counts(ws)}
        data["uninformed_after_days"] = [u.__dict__ for u in uninformed_after(ws, days)]
    cc.emit(data, lambda d: _show_status(d, days))


def _show_status(data: dict[str, Any], days: int) -> None:
    stderr.print(f"media {data['media']}: analyzed {data['analyzed']}, pending {data['analysis_pending']},"
                 f" failed {data['analysis_failed']}")
    stderr.print("sightings: " + ", ".join(f"{k} {v}" for k, v in data["sightings"].items()))
    stderr.print("persons: " + ", ".join(f"{k} {v}" for k, v in data["persons"].items()))
    if not data["uninformed_after_days"]:
        stderr.print(f"every confirmed person's family was informed within {days} days")
        return
    table = Table("person", "name", "step", "confirmed", "days", title=f"family not informed after {days} days")
    for u in data["uninformed_after_days"]:
        table.add_row(str(u["person_id"]), escape(u["name"]), u["step"], u["confirmed_at"][:10], str(u["days"]))
    stderr.print(table)


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
