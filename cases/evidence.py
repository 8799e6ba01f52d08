"""Gather what an evidence package may contain: the rows and files, each with its provenance.

Only confirmed sightings attached to the case are taken; reference photos only when their
own active consent grants the recipient's scope (see cases/recipients.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from svidok.cases.case import case_person
from svidok.cases.recipients import Recipient
from svidok.cases.sightings import load_sighting
from svidok.foundation.workspace import Workspace


@dataclass(frozen=True)
class BagFile:
    folder: str          # media, crops, frames, references
    name: str            # <sha256>.<ext>
    relpath: str         # in the workspace
    sha256: str
    provenance: dict[str, Any]


@dataclass
class Bundle:
    person: dict[str, Any]
    sightings: list[dict[str, Any]] = field(default_factory=list)
    files: list[BagFile] = field(default_factory=list)
    transcripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)
    audit_objects: set[str] = field(default_factory=set)

    def add(self, f: BagFile) -> None:
        if all((x.folder, x.sha256) != (f.folder, f.sha256) for x in self.files):
            self.files.append(f)


def gather(ws: Workspace, case_id: int, rcpt: Recipient) -> Bundle:
    person_id = case_person(ws, case_id)
    rows = ws.conn.execute(
        "SELECT s.id, s.status FROM case_sighting cs JOIN sighting s ON s.id = cs.sighting_id"
        " WHERE cs.case_id = ? ORDER BY s.id", (case_id,)).fetchall()
    first = load_sighting(ws, rows[0][0], with_references=False) if rows else None
    bundle = Bundle(person=first.person if first else {"id": person_id})
    bundle.audit_objects.add(f"person:{person_id}")
    for sid, status in rows:
        if status != "confirmed":
            bundle.excluded.append(f"sighting {sid}: status {status}")
            continue
        _add_sighting(ws, bundle, sid)
    _add_references(ws, bundle, person_id, rcpt)
    return bundle


def _add_sighting(ws: Workspace, bundle: Bundle, sid: int) -> None:
    detail = load_sighting(ws, sid, with_references=False)
    assert detail is not None
    sha = detail.media["sha256"]
    bundle.sightings.append({
        "id": sid, "status": detail.status, "score": detail.score, "reasons": detail.reasons,
        "media_sha256": sha, "clip_s": detail.clip, "post": detail.post,
        "faces": [f.__dict__ for f in detail.faces]})
    bundle.audit_objects.update({f"sighting:{sid}", f"media:{sha}"})
    if detail.post:
        bundle.audit_objects.add(f"item:{detail.post['id']}")
    media = ws.conn.execute("SELECT sha256, ext, path, size, mime, first_seen, original_name FROM media"
                            " WHERE sha256 = ?", (sha,)).fetchone()
    bundle.add(BagFile("media", f"{sha}.{media[1]}", media[2], sha, _media_provenance(ws, media)))
    for face in detail.faces:
        for folder, art in (("crops", face.crop_sha256), ("frames", face.frame_sha256)):
            if art:
                _add_artifact(ws, bundle, folder, art)
    segments = ws.conn.execute(
        "SELECT start_s, end_s, text, language, model, model_version FROM transcript_segment"
        " WHERE media_sha256 = ? ORDER BY start_s", (sha,)).fetchall()
    if segments:
        keys = ("start", "end", "text", "language", "model", "model_version")
        bundle.transcripts[sha] = [dict(zip(keys, s)) for s in segments]


def _media_provenance(ws: Workspace, media: tuple) -> dict[str, Any]:
    sha, ext, path, size, mime, first_seen, original = media
    items = ws.conn.execute(
        "SELECT i.source_kind, i.source_id, i.channel, i.url, i.posted_at, i.collected_at, i.collector,"
        " i.collector_version, im.source_ref FROM item_media im JOIN item i ON i.id = im.item_id"
        " WHERE im.media_sha256 = ? ORDER BY i.collected_at", (sha,)).fetchall()
    keys = ("source_kind", "source_id", "channel", "source_url", "posted_at", "capture_time", "collector",
            "collector_version", "source_ref")
    return {"file": f"data/media/{sha}.{ext}", "kind": "original", "sha256_at_capture": sha, "size": size,
            "mime": mime, "first_captured": first_seen, "original_name": original,
            "captured_from": [dict(zip(keys, i)) for i in items]}


def _add_artifact(ws: Workspace, bundle: Bundle, folder: str, sha: str) -> None:
    row = ws.conn.execute("SELECT sha256, kind, source_sha256, time_s, mime, path, producer, created_at"
                          " FROM artifact WHERE sha256 = ?", (sha,)).fetchone()
    if row is None:
        bundle.excluded.append(f"{folder} {sha}: no artifact record")
        return
    name = row[5].rsplit("/", 1)[-1]
    bundle.add(BagFile(folder, name, row[5], sha, {
        "file": f"data/{folder}/{name}", "kind": row[1], "sha256_at_creation": sha, "derived_from_sha256": row[2],
        "time_s": row[3], "mime": row[4], "producer": row[6], "created_at": row[7]}))


def _add_references(ws: Workspace, bundle: Bundle, person_id: int, rcpt: Recipient) -> None:
    rows = ws.conn.execute(
        "SELECT r.id, r.photo_sha256, r.photo_path, r.photo_date, r.model, r.model_version, c.id, c.scopes,"
        " c.relation, c.given_on FROM reference r JOIN consent c ON c.id = r.consent_id"
        " WHERE r.person_id = ? AND c.revoked_at IS NULL ORDER BY r.id", (person_id,)).fetchall()
    for rid, sha, path, photo_date, model, version, cid, scopes, relation, given_on in rows:
        if not rcpt.references_allowed or rcpt.scope not in json.loads(scopes or "[]"):
            bundle.excluded.append(f"reference photo {rid}: consent {cid} does not allow it to go to {rcpt.key}")
            continue
        name = path.rsplit("/", 1)[-1]
        bundle.add(BagFile("references", name, path, sha, {
            "file": f"data/references/{name}", "kind": "reference-photo", "sha256_at_enrolment": sha,
            "photo_date": photo_date, "consent": {"id": cid, "relation": relation, "given_on": given_on,
                                                  "scopes": json.loads(scopes)},
            "embedding_model": f"{model} {version}"}))
