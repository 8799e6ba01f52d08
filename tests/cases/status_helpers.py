"""A person found by the real name matcher in an archived post, and reviewers to confirm it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from svidok.foundation.workspace import Workspace
from tests.factories import jpeg_bytes

POST = "Пленный назвался: Петренко Олександр, 72 ОМБр. Утримується в Оленівці."
PASSWORD = "correct horse battery staple"
ROLES = {"rev1": "reviewer", "rev2": "reviewer", "analyst": "analyst", "officer": "case-officer", "admin": "admin"}


@dataclass
class Found:
    person: int
    sighting: int
    workspace: Path

    def open(self) -> Workspace:
        return Workspace.open(self.workspace)


def find_person(run_json, tmp_path: Path, workspace_path: Path) -> Found:
    """Олександр Петренко with consent, named in a post: one pending (candidate) sighting."""
    run_json("init")
    person = run_json("person", "add", "--name", "Олександр Петренко", "--unit", "72 ОМБр")["id"]
    run_json("consent", "add", str(person), "--given-by", "Марія Петренко", "--relation", "mother",
             "--date", "2024-05-01", "--scope", "identification,share-icrc")
    photo = tmp_path / "post.jpg"
    photo.write_bytes(jpeg_bytes(1))
    run_json("ingest", "files", str(photo), "--note", POST)
    assert run_json("match")["new_sightings"] == 1
    sighting = run_json("sightings", "list")[0]["id"]
    return Found(person, sighting, workspace_path)


def users(ws: Workspace) -> dict[str, object]:
    """One user per role (two reviewers), created on first use in a workspace."""
    from svidok.cases.users import add_user, get_user

    out = {}
    for name, role in ROLES.items():
        row = ws.conn.execute("SELECT id FROM app_user WHERE name = ?", (name,)).fetchone()
        out[name] = get_user(ws, row[0] if row else add_user(ws, name, role, PASSWORD))
    return out


def confirm(found: Found) -> None:
    """Two reviewers confirm the sighting, as in the review UI (checklist filled, images revealed)."""
    from svidok.cases.decisions import record_decision

    checklist = {"face_shape": "similar", "hairline": "similar", "eyebrows": "similar", "eyes": "similar",
                 "nose": "not-visible", "ears": "not-visible", "mouth": "similar", "marks": "not-visible"}
    with found.open() as ws:
        people = users(ws)
        for reviewer in ("rev1", "rev2"):
            record_decision(ws, found.sighting, people[reviewer], "confirm", checklist,
                            f"{reviewer}: the same face shape and hairline", revealed=True)
