"""Reading a register CSV for `svidok person import` into typed rows (no database).

    REGISTER.csv ──open_register──▶ Register (checked: UTF-8, header, row count)
                 ──Register.rows()──▶ RegisterRow per record (values checked, photo paths resolved)

The columns are those of ../shared/CONTRACT.md ("Register CSV"): only `name` is required;
an unknown or repeated column refuses the whole file (a misspelt `case_number` would silently
lose the key that recognises a row on the next import). A UTF-8 byte-order mark is accepted.

The file is read twice, streamed, never held whole: `open_register` reads it once to refuse a
file that is not UTF-8, has no `name` column or has more than `MAX_ROWS` records before
anything is written, and to count the records for the progress bar; `rows()` reads it again.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first person row 2.
A row whose values are wrong is refused whole, each problem naming its column; a photo path is
judged on its own: it must name a regular file inside the photos folder (`--photos`, else the
CSV's folder) once `..` and symbolic links are resolved; absolute paths are refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO

from svidok.foundation.store import sha256_file
from svidok.matching.persons import (
    CATEGORIES,
    SCOPES,
    ConsentInput,
    PersonError,
    PersonInput,
    check_born,
    check_date,
)

COLUMNS = ("name", "name_variants", "born", "category", "unit", "disappeared_on", "disappeared_place",
           "case_number", "consent_given_by", "consent_relation", "consent_date", "consent_scope", "photos")
CONSENT_COLUMNS = ("consent_given_by", "consent_relation", "consent_date")
MAX_ROWS = 500_000            # a national register is ~65,000 persons; more is a wrong file
MAX_PHOTOS = 20               # photos per row


class RegisterError(ValueError):
    """The register cannot be imported at all (one clear line; nothing was written)."""


@dataclass(frozen=True)
class RowProblem:
    """Why a row, or one photo of it, was refused."""

    row: int
    reason: str
    column: str | None = None
    photo: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"row": self.row}
        if self.column:
            out["column"] = self.column
        if self.photo is not None:
            out["photo"] = self.photo
        out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Photo:
    """One entry of the `photos` column: as written, and the file it names (None: refused)."""

    given: str
    path: Path | None
    problem: str | None = None


@dataclass(frozen=True)
class ConsentFields:
    given_by: str
    relation: str
    given_on: str
    scopes: list[str]

    def for_person(self, person_id: int) -> ConsentInput:
        return ConsentInput(person_id, self.given_by, self.relation, self.given_on, list(self.scopes))


@dataclass(frozen=True)
class RegisterRow:
    row: int
    person: PersonInput
    consent: ConsentFields | None = None
    photos: list[Photo] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)     # non-empty: the row is refused


@dataclass(frozen=True)
class Register:
    path: Path
    photos_root: Path            # resolved
    columns: list[str]
    count: int                   # person rows
    sha256: str

    def rows(self) -> Iterator[RegisterRow]:
        with self.path.open("rb") as raw:
            reader = _reader(raw)
            next(reader)
            number = 1
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except (UnicodeDecodeError, csv.Error) as exc:
                    raise RegisterError(_read_error(self.path, number + 1, exc)) from None
                number += 1
                if any(v.strip() for v in values):
                    yield parse_row(number, self.columns, values, self.photos_root)


def open_register(path: Path, photos_dir: Path | None = None, max_rows: int = MAX_ROWS) -> Register:
    """Check the whole file (streamed) before anything is imported; raises RegisterError."""
    count = 0
    with path.open("rb") as raw:
        reader = _reader(raw)
        try:
            header = next(reader, None)
            if header is None:
                raise RegisterError(f"{path.name} is empty: expected a header row with at least `name`")
            columns = _check_header(path, header)
            for values in reader:
                if any(v.strip() for v in values):
                    count += 1
                    if count > max_rows:
                        raise RegisterError(f"{path.name} has more than {max_rows} person rows; split it")
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RegisterError(_read_error(path, count + 2, exc)) from None
    if count == 0:
        raise RegisterError(f"{path.name} has a header but no person rows")
    root = (photos_dir if photos_dir is not None else path.parent).resolve()
    return Register(path, root, columns, count, sha256_file(path))


def _reader(raw: IO[bytes]) -> Iterator[list[str]]:
    return csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline=""))


def _read_error(path: Path, row: int, exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return (f"{path.name} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} near row {row});"
                " save it as UTF-8 CSV")
    return f"{path.name}: row {row}: not readable as CSV: {exc}"


def _check_header(path: Path, header: list[str]) -> list[str]:
    columns = [h.strip().lower() for h in header]           # "" (a trailing comma): ignored
    unknown = [c for c in columns if c and c not in COLUMNS]
    if unknown:
        raise RegisterError(f"{path.name}: unknown column(s) {', '.join(repr(c) for c in unknown)};"
                            f" the columns are {', '.join(COLUMNS)}")
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise RegisterError(f"{path.name}: column(s) {', '.join(repeated)} given more than once")
    if "name" not in columns:
        raise RegisterError(f"{path.name}: no `name` column (the header row must name the columns)")
    return columns


def parse_row(number: int, columns: list[str], values: list[str], photos_root: Path) -> RegisterRow:
    """One record's values checked and typed; every problem names its column."""
    problems: list[RowProblem] = []
    if len(values) > len(columns):
        problems.append(RowProblem(number, f"{len(values)} fields, but the header has {len(columns)}"))
    cell = {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)}

    def get(column: str) -> str | None:                      # an empty cell is an absent value
        return cell.get(column) or None

    def checked(column: str, check: Callable[[str | None, str], str | None]) -> str | None:
        try:
            return check(get(column), column)
        except PersonError as exc:
            problems.append(RowProblem(number, str(exc).removeprefix(f"{column}: "), column))
            return None

    name = " ".join(cell.get("name", "").split())
    if not name:
        problems.append(RowProblem(number, "empty: every person needs a name", "name"))
    category = get("category")
    if category is not None and category not in CATEGORIES:
        problems.append(RowProblem(number, f"{category!r} is not one of {', '.join(CATEGORIES)}", "category"))
    person = PersonInput(
        name=name, name_variants=[v.strip() for v in cell.get("name_variants", "").split(";") if v.strip()],
        born=checked("born", check_born), category=category, unit=get("unit"),
        disappeared_on=checked("disappeared_on", check_date),
        disappeared_at=get("disappeared_place"), register_number=get("case_number"))
    consent = _consent(number, cell, problems)
    photos = [p.strip() for p in cell.get("photos", "").split(";") if p.strip()]
    if len(photos) > MAX_PHOTOS:
        problems.append(RowProblem(number, f"{len(photos)} photos; at most {MAX_PHOTOS} per row", "photos"))
        photos = []
    return RegisterRow(number, person, consent, [resolve_photo(p, photos_root) for p in photos], problems)


def _consent(number: int, cell: dict[str, str], problems: list[RowProblem]) -> ConsentFields | None:
    given = {c: cell.get(c, "") for c in CONSENT_COLUMNS}
    scope_text = cell.get("consent_scope", "")
    if not any(given.values()) and not scope_text:
        return None
    missing = [c for c, v in given.items() if not v]
    for column in missing:
        problems.append(RowProblem(number, "empty: a consent needs consent_given_by, consent_relation and "
                                           "consent_date", column))
    scopes = [s.strip() for s in scope_text.split(",") if s.strip()] or ["identification"]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        problems.append(RowProblem(number, f"unknown scope {', '.join(unknown)}; use {', '.join(SCOPES)}",
                                   "consent_scope"))
    try:
        given_on = check_date(given["consent_date"] or None, "consent_date")
    except PersonError as exc:
        problems.append(RowProblem(number, str(exc).removeprefix("consent_date: "), "consent_date"))
        given_on = None
    if missing or unknown or given_on is None:
        return None
    return ConsentFields(given["consent_given_by"], given["consent_relation"], given_on, scopes)


def resolve_photo(given: str, root: Path) -> Photo:
    """The file a `photos` entry names, refused when it is absolute or leads out of `root`."""
    if PurePath(given).is_absolute():
        return Photo(given, None, "absolute path; give it relative to the photos folder")
    try:
        path = (root / given).resolve()
        if not path.is_relative_to(root):
            return Photo(given, None, f"outside the photos folder {root} (.. or a symbolic link out)")
        if not path.exists():
            return Photo(given, None, "file not found")
        if not path.is_file():
            return Photo(given, None, "not a regular file")
    except (OSError, ValueError) as exc:           # a NUL byte, a name too long, a link loop
        return Photo(given, None, f"unusable path: {exc}")
    return Photo(given, path)
