"""`svidok person report|inform|contact|liaison|place`: the recorded steps of a person's status.

Attached to the `person` group (svidok/cli/persons.py). Each refuses a step out of order (see
svidok/cases/person_status.py) and is audited with the actor `cli`. The family-liaison log is
for case officers and admins only: the review UI checks the role, the CLI trusts whoever holds
the workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from svidok.cli.base import CommandContext, common_options, stderr


@click.command("report")
@click.argument("person_id", type=int)
@click.option("--to", "recipient", required=True, help="Who was told: icrc, coordination-hq or ombudsman.")
@click.option("--date", "on", required=True, help="When the report was made, YYYY-MM-DD.")
@click.option("--by", "by_whom", required=True, help="Who made the report.")
@click.option("--reference", default="", help="The recipient's reference number for the report.")
@click.option("--sighting", "sightings", type=int, multiple=True,
              help="A confirmed sighting the report rests on; repeatable (default: every confirmed sighting).")
@click.option("--note", default="", help="Free notes.")
@common_options
def person_report(cc: CommandContext, person_id: int, recipient: str, on: str, by_whom: str, reference: str,
                  sightings: tuple[int, ...], note: str) -> None:
    """Record that a confirmed person was reported (refused before a sighting is confirmed).

    Example:

        svidok person report 1 --to icrc --date 2024-06-03 --by "Olena K." --reference CTA-2024-0815 --json
    """
    from svidok.cases.person_status import ReportInput, record_report

    with cc.workspace() as ws:
        report_id = record_report(ws, ReportInput(person_id, recipient, on, by_whom, reference, list(sightings), note),
                                  "cli")
    cc.emit({"id": report_id, "step": "reported"}, lambda d: stderr.print(f"report {d['id']} recorded"))


def _contact_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options `person inform` and `person contact` share."""
    for option in reversed((
        click.option("--date", "on", required=True, help="When, YYYY-MM-DD."),
        click.option("--by", "by_whom", required=True, help="Who spoke for the organisation."),
        click.option("--with", "family_member", required=True, help="Whom they spoke to (family member's name)."),
        click.option("--relation", default="", help="Their relation to the person (mother, wife, ...)."),
        click.option("--how", "channel", required=True,
                     type=click.Choice(["in-person", "phone", "video-call", "messenger", "letter", "email"]),
                     help="How they spoke."),
        click.option("--said", "summary", required=True, help="What was said / what the family was told."),
        click.option("--follow-up", default=None, help="When to contact the family again, YYYY-MM-DD."),
    )):
        func = option(func)
    return func


def _record_contact(cc: CommandContext, kind: str, person_id: int, **fields: str | None) -> None:
    from svidok.cases.liaison import ContactInput, record_contact

    with cc.workspace() as ws:
        contact_id = record_contact(ws, ContactInput(person_id, kind, fields["on"], fields["by_whom"],
                                                     fields["family_member"], fields["channel"], fields["summary"],
                                                     fields["relation"] or "", fields["follow_up"]), "cli")
    cc.emit({"id": contact_id, "kind": kind}, lambda d: stderr.print(f"liaison entry {d['id']} ({kind}) recorded"))


@click.command("inform")
@click.argument("person_id", type=int)
@_contact_options
@common_options
def person_inform(cc: CommandContext, person_id: int, **fields: str | None) -> None:
    """Record that the family was told the person was seen in captivity: who told whom, when,
    how, what was said, when to follow up. Refused before a sighting is confirmed. The entry
    joins the family-liaison log (case officers and admins only).

    Example:

        svidok person inform 1 --date 2024-06-04 --by "Olena K." --with "Марія Петренко" --relation mother --how in-person --said "Seen in a video from Olenivka, May 2024" --follow-up 2024-06-18 --json
    """
    _record_contact(cc, "informed", person_id, **fields)


@click.command("contact")
@click.argument("person_id", type=int)
@click.option("--kind", type=click.Choice(["contact", "consent"]), default="contact", show_default=True,
              help="A contact with the family, or a conversation about consent.")
@_contact_options
@common_options
def person_contact(cc: CommandContext, person_id: int, kind: str, **fields: str | None) -> None:
    """Add a contact with the family to the family-liaison log (case officers and admins only).

    Example:

        svidok person contact 1 --kind consent --date 2024-05-01 --by "Olena K." --with "Марія Петренко" --relation mother --how phone --said "Explained what the photos are used for" --json
    """
    _record_contact(cc, kind, person_id, **fields)


@click.command("liaison")
@click.argument("person_id", type=int)
@common_options
def person_liaison(cc: CommandContext, person_id: int) -> None:
    """Show the family-liaison log of a person. It is for case officers and admins only: the
    review UI checks the role; the CLI trusts whoever holds the workspace, so run it only as one.

    Example:

        svidok person liaison 1 --json
    """
    from svidok.cases.liaison import contacts
    from svidok.cases.person_status import person_name

    with cc.workspace() as ws:
        person_name(ws, person_id)
        rows = [c.as_dict() for c in contacts(ws, person_id)]

    def show(data: list[dict]) -> None:
        for c in data:
            stderr.print(escape(f"{c['contacted_on']} {c['kind']}: {c['by_whom']} → {c['family_member']}"
                                f" ({c['relation']}, {c['channel']}): {c['summary']}"))

    cc.emit(rows, show)


@click.command("place")
@click.argument("person_id", type=int)
@click.option("--site", "site_key", default=None, help="A detention site key from `svidok places`.")
@click.option("--place", default=None, help="A place the gazetteer does not list, by name.")
@click.option("--date", "on", required=True, help="When the person was known to be there, YYYY-MM-DD.")
@click.option("--sighting", "sightings", type=int, multiple=True,
              help="A confirmed sighting showing it; repeatable (default: every confirmed sighting).")
@click.option("--note", default="", help="How the place was established.")
@common_options
def person_place(cc: CommandContext, person_id: int, site_key: str | None, place: str | None, on: str,
                 sightings: tuple[int, ...], note: str) -> None:
    """Record the confirmed place of detention (refused before a sighting is confirmed).

    Example:

        svidok person place 1 --site olenivka-colony-120 --date 2024-05-20 --sighting 7 --json
    """
    from svidok.cases.places import PlaceInput, places_of, record_place

    with cc.workspace() as ws:
        place_id = record_place(ws, PlaceInput(person_id, on, site_key, place, list(sightings), note), "cli")
        recorded = next(p for p in places_of(ws, person_id) if p["id"] == place_id)
    cc.emit({"id": place_id, "site": recorded["site_key"], "place": recorded["place"], "seen_on": recorded["seen_on"]},
            lambda d: stderr.print(escape(f"place {d['id']} recorded: {d['place']}")))


STEP_COMMANDS = [person_report, person_inform, person_contact, person_liaison, person_place]
