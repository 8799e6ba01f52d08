"""Bulk enrollment from a register: persons, consents and reference photos, row by row.

    Register (matching.register_csv) ──import_rows──▶ RowResult per row ──ImportReport──▶ summary
                                                           └─ search_imported: one retroactive search

Each row goes through the functions the single-item commands use, so it is checked and audited
as they are: `persons.add_person` (`person add`), `persons.add_consent` (`consent add`) and
`references.enroll` (`enroll`: face detection, quality checks, consent requirement). Nothing
here computes inside a transaction: each of those writes commits on its own, so an interrupted
import keeps every row it finished and the rerun picks up where it stopped. Finding a row's person
and consent and adding what is missing happen in one write transaction (after catching up with
persons recorded since the run began), so two imports of one register at the same time add each
person and consent once.

Importing the same register again adds nothing twice. A row is recognised as already imported:
1. by `case_number`: the person whose register number it is (a different name there refuses
   the row: a case number names one person); else the person with the same name and born and
   no register number (recorded by hand before the register came);
2. without `case_number`: the person with the same name and born (both as written, the name
   compared ignoring case and repeated spaces; an empty `born` matches an empty one).
The row's consent is recognised by who gave it, their relation and the date; a recognised
consent is never recorded again, even when it has been revoked since (re-importing does not
undo a revocation). A photo is recognised by its SHA-256 among the person's references.

A row with photos but no consent gets its person created and every photo rejected ("no
consent"), even when the person has a consent recorded otherwise (the row's photos come with
none); so are photos of a person whose consent does not (or no longer) allow identification.

The retroactive search that `enroll` runs per person (`sightings.run_match`) runs once, at the
end, for every person who gained a reference or a consent in this run. A run stopped before
that search leaves it to the next `svidok match`, which searches every consented person.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from svidok.foundation.store import StoreError, sha256_file
from svidok.matching.persons import PersonError, add_consent, add_person, sweep_orphan_references
from svidok.matching.references import ConsentRequired, EnrollOptions, enroll
from svidok.matching.register_csv import ConsentFields, Register, RegisterRow, RowProblem

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace
    from svidok.matching.sightings import MatchReport

NO_CONSENT = "no consent: the row records none, so its photos are not enrolled"


@dataclass(frozen=True)
class RowResult:
    row: int
    status: str                              # new | existing | refused
    person_id: int | None = None
    consent_added: bool = False
    references_added: int = 0
    photos_known: int = 0                    # already references of the person
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: int = 0
    persons: int = 0                         # created
    existing: int = 0                        # rows recognised as already imported
    consents: int = 0
    references: int = 0
    photos_known: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    to_search: list[int] = field(default_factory=list)
    search: "MatchReport | None" = None

    def add(self, result: RowResult) -> None:
        self.rows += 1
        self.persons += result.status == "new"
        self.existing += result.status == "existing"
        self.consents += result.consent_added
        self.references += result.references_added
        self.photos_known += result.photos_known
        self.rejected.extend(result.problems)
        if result.person_id is not None and (result.consent_added or result.references_added):
            self.to_search.append(result.person_id)

    @property
    def refused_rows(self) -> int:
        return self.rows - self.persons - self.existing

    def as_dict(self) -> dict[str, object]:
        search = None if self.search is None else {"persons": self.search.persons,
                                                   "new_sightings": self.search.new_sightings}
        return {"rows": self.rows, "persons": self.persons, "existing": self.existing, "consents": self.consents,
                "references": self.references, "photos_known": self.photos_known,
                "refused_rows": self.refused_rows, "rejected": [p.as_dict() for p in self.rejected],
                "search": search}


@dataclass(frozen=True)
class _Known:
    person_id: int
    name: str                  # folded
    has_number: bool


class PersonIndex:
    """The persons already recorded, by register number and by (name, born); kept current."""

    def __init__(self, ws: "Workspace") -> None:
        self.by_number: dict[str, _Known] = {}
        self.by_name: dict[tuple[str, str], list[_Known]] = {}
        self.last_id = 0
        self.catch_up(ws)

    def catch_up(self, ws: "Workspace") -> None:
        """Add the persons recorded since (by another import or user running at the same time)."""
        for pid, name, born, number in ws.conn.execute(
                "SELECT id, name, born, register_number FROM person WHERE id > ? ORDER BY id", (self.last_id,)):
            self.add(pid, name, born, number)

    def add(self, person_id: int, name: str, born: str | None, number: str | None) -> None:
        self.last_id = max(self.last_id, person_id)
        known = _Known(person_id, fold(name), bool(number))
        if number:
            self.by_number.setdefault(number, known)
        self.by_name.setdefault((known.name, born or ""), []).append(known)

    def find(self, row: RegisterRow) -> int | None:
        """The person this row already is, if any; raises RowRefused on a case number's clash."""
        person = row.person
        same = self.by_name.get((fold(person.name), person.born or ""), [])
        if person.register_number:
            known = self.by_number.get(person.register_number)
            if known is not None:
                if known.name != fold(person.name):
                    raise RowRefused(RowProblem(row.row, f"case number {person.register_number!r} is person "
                                                         f"{known.person_id}'s, recorded under another name",
                                                "case_number"))
                return known.person_id
            same = [k for k in same if not k.has_number]
        return same[0].person_id if same else None


class RowRefused(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def import_rows(ws: "Workspace", register: Register, actor: str = "cli") -> Iterator[RowResult]:
    """Import the register row by row (each row's writes committed before the next row)."""
    sweep_orphan_references(ws)                         # once here, not once per enrolled row
    index = PersonIndex(ws)
    for row in register.rows():
        if row.problems:
            yield RowResult(row.row, "refused", problems=list(row.problems))
            continue
        try:
            yield import_row(ws, index, row, actor)
        except RowRefused as refused:
            yield RowResult(row.row, "refused", problems=[refused.problem])
        except PersonError as exc:                       # what add_person / add_consent refuse
            yield RowResult(row.row, "refused", problems=[RowProblem(row.row, str(exc))])


def import_row(ws: "Workspace", index: PersonIndex, row: RegisterRow, actor: str) -> RowResult:
    with ws.transaction():               # 1-2 in the write turn: two imports at once cannot both add them
        person_id = index.find(row)
        if person_id is None:
            index.catch_up(ws)
            person_id = index.find(row)
        status = "existing" if person_id is not None else "new"
        if person_id is None:                                                     # 1. the person
            person_id = add_person(ws, row.person, actor)
            index.add(person_id, row.person.name, row.person.born, row.person.register_number)
        consent_added = row.consent is not None and _add_consent(ws, person_id, row.consent, actor)   # 2. consent
    problems = [RowProblem(row.row, p.problem or "refused", "photos", p.given) for p in row.photos if p.path is None]
    known, to_enroll = _new_photos(ws, person_id, row)                            # 3. photos
    added = 0
    for given, path in to_enroll.items():
        reason = NO_CONSENT if row.consent is None else _enroll_one(ws, person_id, path, actor)
        if reason is None:
            added += 1
        else:
            problems.append(RowProblem(row.row, reason, "photos", given))
    return RowResult(row.row, status, person_id, consent_added, added, known, problems)


def _enroll_one(ws: "Workspace", person_id: int, path: Path, actor: str) -> str | None:
    """`enroll` for one photo: None when accepted, else why not."""
    try:
        result = enroll(ws, person_id, [path], EnrollOptions(actor=actor, sweep=False))[0]
    except ConsentRequired as exc:
        return f"no consent: {exc}"
    except (StoreError, OSError, ValueError) as exc:
        return f"not enrolled: {exc}"
    return None if result.status == "accepted" else (result.reason or "rejected")


def _add_consent(ws: "Workspace", person_id: int, consent: ConsentFields, actor: str) -> bool:
    """Record the row's consent unless the person has it already (revoked or not)."""
    recorded = ws.conn.execute(
        "SELECT 1 FROM consent WHERE person_id = ? AND given_by = ? AND relation = ? AND given_on = ? LIMIT 1",
        (person_id, consent.given_by, consent.relation, consent.given_on)).fetchone()
    if recorded:
        return False
    add_consent(ws, consent.for_person(person_id), actor)
    return True


def _new_photos(ws: "Workspace", person_id: int, row: RegisterRow) -> tuple[int, dict[str, Path]]:
    """(photos already references of the person, {entry as written: path} still to enroll)."""
    have = {r[0] for r in ws.conn.execute("SELECT photo_sha256 FROM reference WHERE person_id = ?", (person_id,))}
    known, todo = 0, dict[str, Path]()
    for photo in row.photos:
        if photo.path is None or photo.given in todo:
            continue
        sha = sha256_file(photo.path)
        if sha in have:
            known += 1
        else:
            have.add(sha)
            todo[photo.given] = photo.path
    return known, todo


def search_imported(ws: "Workspace", report: ImportReport, actor: str = "cli") -> "MatchReport | None":
    """The retroactive search for everyone who gained a reference or consent: once, over the whole archive."""
    from svidok.matching.sightings import run_match

    if not report.to_search:
        report.search = None
        return None
    report.search = run_match(ws, sorted(set(report.to_search)), actor)
    return report.search


def audit_import(ws: "Workspace", register: Register, report: ImportReport, actor: str = "cli") -> None:
    """One entry naming the register file (by hash) and what its import added."""
    with ws.transaction():
        ws.audit.append(actor, "person.import", register.path.name, {
            "register_sha256": register.sha256, "rows": report.rows, "persons": report.persons,
            "consents": report.consents, "references": report.references, "rejected": len(report.rejected)})
