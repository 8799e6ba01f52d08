"""A demo-like archive built through Svidok's own functions, so that every row the audit log
should vouch for was written with its entry: a Telegram Desktop export collected, crops stored
as an analyzer stores them, persons, consents, reference photos, users, sightings written by the
matching stage's upsert, decisions (two confirmations, a conflict an admin resolved, an amended
"unsure"), a case with an attachment and a note, a family contact, a revoked consent and an
evidence package under exports/. No face or speech model is needed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from svidok.cases.case import add_note, attach, open_case
from svidok.cases.decisions import record_decision, resolve_conflict, submit_decision
from svidok.cases.export import ExportResult, export_case
from svidok.cases.liaison import ContactInput, record_contact
from svidok.cases.review_rules import DecisionInput
from svidok.cases.users import add_user, get_user
from svidok.collectors.tdesktop_export import TelegramDesktopExport
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace
from svidok.matching.base import Candidate
from svidok.matching.persons import ConsentInput, PersonInput, add_consent, add_person, get_person
from svidok.matching.revocation import revoke_consent
from svidok.matching.upsert import upsert_candidates
from svidok.pipeline import run_collector
from tests.factories import CHECKLIST, channel_export, evidence, jpeg_bytes

PASSWORD = "correct horse battery staple"
USERS = {"rev1": "reviewer", "rev2": "reviewer", "admin": "admin", "officer": "case-officer"}


@dataclass
class Archive:
    ws: Workspace
    person: int
    media: dict[str, str] = field(default_factory=dict)         # mime major type -> sha256
    sightings: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    consents: dict[str, int] = field(default_factory=dict)
    references: dict[str, int] = field(default_factory=dict)
    crops: list[str] = field(default_factory=list)
    case: int = 0
    package: ExportResult | None = None

    def user(self, name: str):
        return get_user(self.ws, self.users[name])


def enroll_like(ws: Workspace, person: int, consent: int, seed: int) -> int:
    """What matching.references enrolls (photo stored, row, `reference.enroll` in one transaction),
    without running a face detector over the photo."""
    stored = ws.references.put_bytes(jpeg_bytes(seed, (80, 80)), "jpg")
    with ws.transaction():
        reference_id = ws.conn.execute(
            "INSERT INTO reference (person_id, consent_id, photo_sha256, photo_path, box, embedding, model,"
            " model_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (person, consent, stored.sha256, stored.relpath, "[10, 70, 70, 10]", bytes(512), "test", "1",
             utc_now())).fetchone()[0]
        ws.audit.append("cli", "reference.enroll", f"reference:{reference_id}",
                        {"person_id": person, "consent_id": consent, "photo_sha256": stored.sha256})
    return int(reference_id)


def store_crop(ws: Workspace, source: str, seed: int) -> str:
    """A derived file stored as an analyzer stores its crops (no audit entry: analysis is re-runnable)."""
    stored = ws.derived.put_bytes(jpeg_bytes(seed, (40, 40)), "jpg")
    ws.conn.execute("INSERT INTO artifact (sha256, kind, source_sha256, time_s, mime, path, producer, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                    (stored.sha256, "crop", source, 1.0, stored.mime, stored.relpath, "analyzers.faces 1.0", utc_now()))
    return stored.sha256


def _candidate(person: int, media: str, key: str, score: float, refs: list[int]) -> Candidate:
    reason = {"kind": "name", "text": "Петренко Олександр", "field": "text", "score": score}
    return Candidate(person, media, key, score, [reason], {"names": "1"}, refs)


def _people(ws: Workspace, tmp: Path, archive_media: dict[str, str]) -> Archive:
    person = add_person(ws, PersonInput(name="Петренко Олександр Іванович", born="1994-05-02"), actor="cli")
    arc = Archive(ws, person, archive_media)
    arc.consents = {"share": add_consent(ws, ConsentInput(person, "Марія Петренко", "mother", "2024-01-10",
                                                          ["identification", "share-icrc", "court"]), actor="cli"),
                    "ident": add_consent(ws, ConsentInput(person, "Іван Петренко", "brother", "2024-02-01"),
                                         actor="cli")}
    arc.references = {k: enroll_like(ws, person, c, seed) for (k, c), seed in zip(arc.consents.items(), (11, 12))}
    arc.users = {name: add_user(ws, name, role, PASSWORD) for name, role in USERS.items()}
    arc.crops = [store_crop(ws, archive_media["video"], seed) for seed in (101, 102)]
    return arc


def _sightings(arc: Archive) -> None:
    ws, media, refs = arc.ws, arc.media, arc.references
    candidates = [_candidate(arc.person, media["image"], "confirmed", 0.9, [refs["share"]]),
                  _candidate(arc.person, media["video"], "conflict", 0.8, [refs["share"]]),
                  _candidate(arc.person, media["audio"], "pending", 0.7, [refs["share"]]),
                  _candidate(arc.person, media["round"], "withdrawn", 0.6, [refs["ident"]])]
    upsert_candidates(ws, candidates, "cli", [get_person(ws, arc.person)])
    arc.sightings = {key: ws.conn.execute("SELECT id FROM sighting WHERE key = ?", (key,)).fetchone()[0]
                     for key in ("confirmed", "conflict", "pending", "withdrawn")}


def _decide(arc: Archive) -> None:
    ws, s = arc.ws, arc.sightings
    for name in ("rev1", "rev2"):
        record_decision(ws, s["confirmed"], arc.user(name), "confirm", **evidence(f"{name}: шрам над бровою"))
    record_decision(ws, s["conflict"], arc.user("rev1"), "confirm", **evidence())
    record_decision(ws, s["conflict"], arc.user("rev2"), "reject", {}, "different ears")
    resolve_conflict(ws, s["conflict"], arc.user("admin"), "reject", "the ears differ in the second frame")
    record_decision(ws, s["pending"], arc.user("rev1"), "unsure")
    submit_decision(ws, s["pending"], arc.user("rev1"), DecisionInput("reject", dict(CHECKLIST), "not him"),
                    amend=True)


def build_archive(ws: Workspace, tmp: Path) -> Archive:
    run_collector(ws, TelegramDesktopExport(channel_export(tmp / "export"), language="ru"), actor="cli")
    rows = ws.conn.execute("SELECT m.sha256, m.mime, im.role FROM media m JOIN item_media im"
                           " ON im.media_sha256 = m.sha256 ORDER BY im.item_id").fetchall()
    media = {("round" if role == "round_video" else mime.split("/")[0]): sha for sha, mime, role in rows}
    arc = _people(ws, tmp, media)
    _sightings(arc)
    _decide(arc)
    arc.case, _ = open_case(ws, arc.person, arc.users["officer"], "officer")
    attach(ws, arc.case, arc.sightings["confirmed"], arc.users["officer"], "officer")
    add_note(ws, arc.case, "Родину повідомлено / family told", "officer")
    record_contact(ws, ContactInput(arc.person, "contact", "2024-06-01", "officer", "Марія Петренко", "phone",
                                    "told about the archive", relation="mother"), "officer")
    revoke_consent(ws, arc.consents["ident"], "cli")
    arc.package = export_case(ws, arc.case, "icrc", ws.root / "exports", "officer")
    return arc


def stored_path(ws: Workspace, table: str, sha: str) -> Path:
    column = "photo_path" if table == "reference" else "path"
    key = "photo_sha256" if table == "reference" else "sha256"
    return ws.path(ws.conn.execute(f"SELECT {column} FROM {table} WHERE {key} = ?", (sha,)).fetchone()[0])


def problems_of(report, kind: str) -> list[str]:
    return [p.what for p in report.problems if p.kind == kind]


def as_json(report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False)
