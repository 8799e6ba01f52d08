"""`svidok demo`: the whole slice on generated material, in a fresh workspace.

1. a fresh demo workspace (an earlier demo workspace is replaced; any other folder is refused);
2. the demo material: a Russian channel's Telegram Desktop export and a family photo;
3. ingest the export;
4. register a missing person, record the family's consent, enroll the photo;
5. analyze (faces, tracks, speech);
6. match, and print the queue;
7. create two reviewers and a case officer (passwords printed once);
8. serve the review UI on 127.0.0.1 (unless --no-serve).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svidok.foundation.workspace import Workspace

MARKER = ".svidok-demo"
DEMO_PERSON = {
    "name": "Петренко Олександр Іванович",
    "variants": ["Петренко Александр Иванович", "Petrenko Oleksandr"],
    "born": "1994-05-02",
    "unit": "36 окрема бригада морської піхоти",
}
DEMO_USERS = (("reviewer1", "reviewer"), ("reviewer2", "reviewer"), ("officer", "case-officer"))


class DemoError(ValueError):
    """The demo cannot run here (one clear line)."""


@dataclass
class DemoResult:
    workspace: Path
    person_id: int
    sightings: list[dict[str, Any]]
    passwords: dict[str, str] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)


def fresh_workspace(root: Path) -> Workspace:
    """Step 1: replace an earlier demo workspace; never touch anything else."""
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise DemoError(f"{root} exists and is not a demo workspace; choose another --workspace")
        shutil.rmtree(root)
    workspace = Workspace.create(root)
    (root / MARKER).write_text("created by `svidok demo`; safe to delete\n", encoding="utf-8")
    return workspace


def run_demo(root: Path, say: Callable[[str], None]) -> DemoResult:
    """Steps 1-7; serving (step 8) is the caller's."""
    from svidok.analyzers.registry import default_analyzers
    from svidok.cases.users import add_user, generate_password
    from svidok.collectors.tdesktop_export import TelegramDesktopExport
    from svidok.demo import material as demo_material
    from svidok.matching.persons import ConsentInput, PersonInput, add_consent, add_person
    from svidok.matching.references import EnrollOptions, enroll
    from svidok.matching.sightings import list_sightings, run_match
    from svidok.pipeline import run_analysis, run_collector

    with fresh_workspace(root) as ws:                                                  # 1
        say(f"1/7 workspace: {ws.root}")
        material_dir = ws.root.parent / f"{ws.root.name}-material"
        shutil.rmtree(material_dir, ignore_errors=True)
        material_dir.mkdir(parents=True)
        material = demo_material.build(material_dir)                                   # 2
        say(f"2/7 demo material: {material.export_dir}")
        report = run_collector(ws, TelegramDesktopExport(material.export_dir, language="ru"), actor="demo")  # 3
        say(f"3/7 archived {report.items} posts, {report.media} media files")
        person_id = add_person(ws, PersonInput(name=DEMO_PERSON["name"], name_variants=DEMO_PERSON["variants"],
                                               born=DEMO_PERSON["born"], category="serviceman",
                                               unit=DEMO_PERSON["unit"], disappeared_on="2024-02-20",
                                               disappeared_at="Кринки, Херсонська обл."), actor="demo")  # 4
        add_consent(ws, ConsentInput(person_id, "Петренко Ганна Миколаївна", "mother", "2024-03-10",
                                     ["identification", "court", "share-icrc"], "demo consent form #1"), actor="demo")
        enrolled = enroll(ws, person_id, [material.reference_photo], EnrollOptions(photo_date="2021-08-01",
                                                                                  actor="demo"))
        if enrolled[0].status != "accepted":
            raise DemoError(f"the demo reference photo was rejected: {enrolled[0].reason}")
        say(f"4/7 person {person_id} registered with consent; reference photo enrolled")
        analysis = run_analysis(ws, default_analyzers())                               # 5
        say(f"5/7 analyzed {analysis.analyzed} files: {analysis.counts}")
        run_match(ws)                                                                  # 6
        sightings = [s.as_dict() if hasattr(s, "as_dict") else s for s in list_sightings(ws, status=("pending",))]
        say(f"6/7 {len(sightings)} candidate sighting(s) waiting for review")
        passwords = {}
        for name, role in DEMO_USERS:                                                  # 7
            passwords[name] = generate_password()
            add_user(ws, name, role, passwords[name], actor="demo")
        say("7/7 demo accounts created")
        return DemoResult(ws.root, person_id, sightings, passwords, analysis.as_dict())


def is_demo_workspace(root: Path) -> bool:
    return (root / MARKER).is_file() and Workspace.exists(root)
