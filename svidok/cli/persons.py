"""`svidok person ...`, `svidok consent ...`, `svidok enroll`: missing persons, consent, references."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from svidok.cli.base import CommandContext, CommandError, common_options, stderr
from svidok.cli.person_steps import STEP_COMMANDS


@click.group()
def person() -> None:
    """Missing persons searched for in the archive."""


@person.command("add")
@click.option("--name", required=True, help="Full name as the family gives it.")
@click.option("--name-variant", "variants", multiple=True, help="Another spelling (Russian, Latin, ...); repeatable.")
@click.option("--born", default=None, help="Date of birth, YYYY-MM-DD.")
@click.option("--category", type=click.Choice(["serviceman", "civilian", "child"]), default=None, help="Who the person is.")
@click.option("--unit", default=None, help="Military unit (e.g. '72 ОМБр'), a supporting reason in name matching.")
@click.option("--disappeared-on", default=None, help="Date of disappearance, YYYY-MM-DD.")
@click.option("--disappeared-at", default=None, help="Place of disappearance (town), a supporting reason.")
@click.option("--register-number", default=None, help="Register or case number.")
@click.option("--notes", default="", help="Free notes.")
@common_options
def person_add(cc: CommandContext, name: str, variants: tuple[str, ...], born: str | None, category: str | None,
               unit: str | None, disappeared_on: str | None, disappeared_at: str | None,
               register_number: str | None, notes: str) -> None:
    """Record a missing person.

    Example:

        svidok person add --name "Олександр Петренко" --name-variant "Александр Петренко" --born 1990-03-14 --category serviceman --unit "72 ОМБр" --json
    """
    from svidok.matching.persons import PersonInput, add_person

    data = PersonInput(name, list(variants), born, category, unit, disappeared_on, disappeared_at, register_number, notes)
    with cc.workspace() as ws:
        person_id = add_person(ws, data)
    cc.emit({"id": person_id}, lambda d: stderr.print(f"person {d['id']} recorded"))


@person.command("import")
@click.argument("register", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--photos", "photos_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder the `photos` column is relative to (default: the CSV's folder); paths leading out of it"
                   " are refused.")
@click.option("--no-search", is_flag=True, help="Do not search the archive for the imported persons at the end.")
@common_options
def person_import(cc: CommandContext, register: Path, photos_dir: Path | None, no_search: bool) -> None:
    """Import a register CSV: persons, consents and reference photos, row by row.

    Columns (UTF-8, header row, only `name` required): name, name_variants (;-separated),
    born (YYYY-MM-DD or YYYY), category, unit, disappeared_on, disappeared_place, case_number,
    consent_given_by, consent_relation, consent_date, consent_scope (,-separated), photos
    (;-separated paths). Photos go through the same checks as `svidok enroll`; a row without a
    consent gets its person but no photos. A bad row or photo is reported (row, column, reason)
    and the import goes on. Importing the same register again adds nothing twice (a row is
    recognised by case_number, else by name and born), so an interrupted import is resumed by
    running it again. At the end the archive is searched once for everyone who gained a
    reference or consent. Exit 1 when the file cannot be read or no row could be imported.

    Example:

        svidok person import register.csv --photos register-photos/ --json
    """
    from svidok.matching.register_csv import RegisterError, open_register
    from svidok.matching.register_import import ImportReport, audit_import, import_rows, search_imported

    try:
        source = open_register(register, photos_dir)
    except RegisterError as exc:
        raise CommandError(str(exc)) from None
    report = ImportReport()
    with cc.workspace() as ws:
        with cc.progress() as bar:
            task = bar.add_task("importing", total=source.count)
            for result in import_rows(ws, source):
                report.add(result)
                bar.advance(task)
        audit_import(ws, source, report)
        if not no_search and report.to_search:
            stderr.print(f"retroactive search for {len(set(report.to_search))} person(s), once for the whole import…")
            search_imported(ws, report)
    cc.emit(report.as_dict(), _show_import)
    if report.refused_rows == report.rows:
        stderr.print("[bold red]error:[/] nothing imported: every row was refused")
        raise SystemExit(1)


def _show_import(data: dict) -> None:
    stderr.print(f"{data['rows']} row(s): {data['persons']} person(s) added, {data['existing']} already imported,"
                 f" {data['refused_rows']} refused; {data['consents']} consent(s), {data['references']}"
                 f" reference photo(s) added ({data['photos_known']} already enrolled)")
    for r in data["rejected"][:50]:
        where = f"row {r['row']}" + (f", {r['column']}" if r.get("column") else "")
        stderr.print(escape(f"  {where}: " + (f"{r['photo']}: " if "photo" in r else "") + r["reason"]))
    if len(data["rejected"]) > 50:
        stderr.print(f"  … and {len(data['rejected']) - 50} more (all of them with --json)")
    if data["search"] is not None:
        stderr.print(f"retroactive search: {data['search']['new_sightings']} new candidate sighting(s)")


@person.command("list")
@common_options
def person_list(cc: CommandContext) -> None:
    """List missing persons with their consent state and reference count.

    Example:

        svidok person list --json
    """
    from svidok.matching.persons import list_persons, searchable_person_ids

    with cc.workspace() as ws:
        searchable = set(searchable_person_ids(ws))
        out = []
        for p in list_persons(ws):
            refs = ws.conn.execute("SELECT count(*) FROM reference WHERE person_id = ?", (p.id,)).fetchone()[0]
            out.append({**p.as_dict(), "searchable": p.id in searchable, "references": refs})

    def show(data: list[dict]) -> None:
        table = Table("id", "name", "born", "category", "consent", "references")
        for r in data:
            table.add_row(str(r["id"]), r["name"], r["born"] or "", r["category"] or "",
                          "active" if r["searchable"] else "none", str(r["references"]))
        stderr.print(table)

    cc.emit(out, show)


@person.command("show")
@click.argument("person_id", type=int)
@click.option("--liaison", is_flag=True,
              help="Include the family-liaison log (whom the family member is, what was said): case officers and"
                   " admins only.")
@common_options
def person_show(cc: CommandContext, person_id: int, liaison: bool) -> None:
    """Show one person with consents, reference count, candidate sightings, status step
    (missing, candidate, confirmed, reported, informed) and timeline.

    The family-liaison log is for case officers and admins: without --liaison the timeline
    shows only when, how and by whom the family was informed.

    Example:

        svidok person show 1 --json
    """
    from svidok.cases.person_timeline import person_status, person_timeline
    from svidok.matching.persons import consents_of, get_person
    from svidok.matching.sightings import list_sightings

    with cc.workspace() as ws:
        data = get_person(ws, person_id).as_dict()
        data["consents"] = consents_of(ws, person_id)
        data["references"] = ws.conn.execute("SELECT count(*) FROM reference WHERE person_id = ?",
                                             (person_id,)).fetchone()[0]
        data["sightings"] = [s.as_dict() for s in list_sightings(ws, person_id=person_id)]
        data["status"] = person_status(ws, person_id, liaison)
        data["timeline"] = [e.as_dict() for e in person_timeline(ws, person_id, liaison)]
    cc.emit(data, _show_person)


def _show_person(data: dict) -> None:
    stderr.print(escape(f"{data['id']} {data['name']} — {data['status']['step']}; {len(data['consents'])} consent(s),"
                        f" {data['references']} reference(s), {len(data['sightings'])} sighting(s)"))
    for e in data["timeline"]:
        stderr.print(escape(f"  {e['at'][:16]:16}  {e['step']:9}  {e['text']}" + (f"  [{e['actor']}]" if e["actor"]
                                                                               else "")))


@click.group()
def consent() -> None:
    """Consent given by a family to search for a person."""


@consent.command("add")
@click.argument("person_id", type=int)
@click.option("--given-by", required=True, help="Who gave consent.")
@click.option("--relation", required=True, help="Their relation to the person (mother, wife, ...).")
@click.option("--date", "given_on", required=True, help="Date consent was given, YYYY-MM-DD.")
@click.option("--scope", default="identification", show_default=True,
              help="Comma-separated: identification, court, share-icrc, share-ombudsman, publication.")
@click.option("--document", default=None, help="Reference to the signed consent document.")
@common_options
def consent_add(cc: CommandContext, person_id: int, given_by: str, relation: str, given_on: str, scope: str,
                document: str | None) -> None:
    """Record consent for a person; scope `identification` allows enrolling photos and matching.

    Example:

        svidok consent add 1 --given-by "Марія Петренко" --relation mother --date 2024-05-01 --scope identification,court --json
    """
    from svidok.matching.persons import ConsentInput, add_consent

    scopes = [s.strip() for s in scope.split(",") if s.strip()]
    with cc.workspace() as ws:
        consent_id = add_consent(ws, ConsentInput(person_id, given_by, relation, given_on, scopes, document))
    cc.emit({"id": consent_id}, lambda d: stderr.print(f"consent {d['id']} recorded"))


@consent.command("revoke")
@click.argument("consent_id", type=int)
@common_options
def consent_revoke(cc: CommandContext, consent_id: int) -> None:
    """Revoke a consent: delete its reference photos and embeddings, withdraw unreviewed
    sightings that rest on them, mark confirmed ones (kept as evidence).

    Example:

        svidok consent revoke 3 --json
    """
    from svidok.cases.export import packages_holding
    from svidok.matching.revocation import revoke_consent

    with cc.workspace() as ws:
        report = revoke_consent(ws, consent_id, exports=packages_holding)
    cc.emit(report.as_dict(), _show_revocation)


def _show_revocation(data: dict) -> None:
    r = data["removed"]
    stderr.print(f"removed {r['references']} reference(s), {r['files']} photo file(s), {r['embeddings']} "
                 f"embedding(s); withdrew {r['sightings_withdrawn']} sighting(s); marked {r['confirmed_marked']} "
                 "confirmed sighting(s)")
    for touched in data["exports_touched"]:
        stderr.print(escape(f"deleted the photo from the export {touched['bag']}: {', '.join(touched['removed'])}"))
    if data["already_delivered"]:
        stderr.print("[bold]already delivered[/] (Svidok cannot recall these; ask each recipient to delete the photo):")
    for d in data["already_delivered"]:
        line = f"  {d['recipient']}: case {d['case_id']}, exported {d['exported_at']}, package {d['bag']}"
        stderr.print(escape(line))


@click.command()
@click.argument("person_id", type=int)
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--face", type=int, default=None, help="Which face to use when a photo has several (1 = leftmost).")
@click.option("--photo-date", default=None, help="When the photos were taken, YYYY-MM-DD (age at photo).")
@click.option("--no-search", is_flag=True, help="Do not search the archive for the new references now.")
@common_options
def enroll(cc: CommandContext, person_id: int, photos: tuple[Path, ...], face: int | None, photo_date: str | None,
           no_search: bool) -> None:
    """Add reference photos of a person (needs an active identification consent), then search
    the whole archive for them at once (new candidate sightings, no re-analysis).

    Example:

        svidok enroll 1 family/photo1.jpg family/photo2.jpg --photo-date 2021-08-24 --json
    """
    from svidok.matching.persons import PersonError
    from svidok.matching.references import EnrollOptions
    from svidok.matching.references import enroll as enroll_photos
    from svidok.matching.sightings import run_match

    with cc.workspace() as ws:
        try:
            results = enroll_photos(ws, person_id, list(photos), EnrollOptions(face, photo_date))
        except PersonError as exc:
            raise CommandError(str(exc)) from None
        if any(r.status == "accepted" for r in results) and not no_search:
            report = run_match(ws, [person_id])
            stderr.print(f"retroactive search: {report.new_sightings} new candidate sighting(s)")

    def show(data: list[dict]) -> None:
        for r in data:
            stderr.print(f"{r['status']}: {r['photo']}" + (f" ({r['reason']})" if r.get("reason") else ""))

    cc.emit([r.as_dict() for r in results], show)
    if not any(r.status == "accepted" for r in results):
        stderr.print("[bold red]error:[/] nothing enrolled: every photo was rejected")
        raise SystemExit(1)


for _step in STEP_COMMANDS:
    person.add_command(_step)

COMMANDS = [person, consent, enroll]
