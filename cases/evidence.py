"""Gather what an evidence package may contain: the rows and files, each with its provenance.

Only confirmed sightings attached to the case are taken; reference photos and consent records
only when their own active consent grants the recipient's scope (see cases/recipients.py).
Every file is named by its SHA-256 (`<folder>/<sha256>.<ext>`); the records below say what
each one is, so the summary can show them by meaning rather than by hash. A sighting's record
lists every post of its footage (`posts`, cases/footage_posts.py: each media's SHA-256, how it
was linked, each capture's URL, channel and times): the same footage posted at N places is one
sighting, and its record says where; the files of the other posts stay in the archive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from svidok.cases.case import case_person
from svidok.cases.decisions import decisions_for
from svidok.cases.footage_posts import footage_posts, post_records
from svidok.cases.local_paths import scrub
from svidok.cases.recipients import Recipient
from svidok.cases.sightings import SightingDetail, load_sighting
from svidok.foundation.workspace import Workspace


@dataclass(frozen=True)
class BagFile:
    folder: str          # media, crops, frames, references
    name: str            # <sha256>.<ext>
    relpath: str         # in the workspace (never written into the package)
    sha256: str
    provenance: dict[str, Any]

    @property
    def href(self) -> str:
        """Its path inside the package's data/ folder."""
        return f"{self.folder}/{self.name}"


@dataclass(frozen=True)
class ConsentRecord:
    id: int
    given_by: str
    relation: str
    given_on: str
    scopes: list[str]
    document_ref: str | None
    recorded_at: str


@dataclass(frozen=True)
class ReferenceEvidence:
    id: int
    file: str            # data/references/<sha256>.<ext>
    sha256: str
    photo_date: str | None
    consent_id: int
    model: str
    box: list[int] | None = None   # the face in the photo: [top, right, bottom, left], pixels


@dataclass
class Bundle:
    person: dict[str, Any]
    sightings: list[dict[str, Any]] = field(default_factory=list)
    files: list[BagFile] = field(default_factory=list)
    transcripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)
    audit_objects: set[str] = field(default_factory=set)
    consents: list[ConsentRecord] = field(default_factory=list)
    references: list[ReferenceEvidence] = field(default_factory=list)
    models: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, f: BagFile) -> None:
        if all((x.folder, x.sha256) != (f.folder, f.sha256) for x in self.files):
            self.files.append(f)

    def uses(self, name: str, version: str, purpose: str) -> None:
        self.models.setdefault((name, version), set()).add(purpose)


def gather(ws: Workspace, case_id: int, rcpt: Recipient) -> Bundle:
    person_id = case_person(ws, case_id)
    rows = ws.conn.execute(
        "SELECT s.id, s.status FROM case_sighting cs JOIN sighting s ON s.id = cs.sighting_id"
        " WHERE cs.case_id = ? ORDER BY s.id", (case_id,)).fetchall()
    first = load_sighting(ws, rows[0][0], with_references=False) if rows else None
    bundle = Bundle(person=first.person if first else {"id": person_id})
    bundle.audit_objects.update({f"person:{person_id}", f"case:{case_id}"})
    _add_consents(ws, bundle, person_id, rcpt)
    _add_references(ws, bundle, person_id, rcpt)
    for sid, status in rows:
        if status != "confirmed":
            bundle.excluded.append(f"sighting {sid}: status {status}")
            continue
        _add_sighting(ws, bundle, sid)
    return bundle


def _add_sighting(ws: Workspace, bundle: Bundle, sid: int) -> None:
    detail = load_sighting(ws, sid, with_references=False)
    assert detail is not None
    sha = detail.media["sha256"]
    ref_ids, versions = (json.loads(x or "[]") for x in ws.conn.execute(
        "SELECT reference_ids, model_versions FROM sighting WHERE id = ?", (sid,)).fetchone())
    bundle.audit_objects.update({f"sighting:{sid}", f"media:{sha}"})
    if detail.post:
        bundle.audit_objects.add(f"item:{detail.post['id']}")
    media = ws.conn.execute("SELECT sha256, ext, path, size, mime, first_seen, original_name FROM media"
                            " WHERE sha256 = ?", (sha,)).fetchone()
    bundle.add(BagFile("media", f"{sha}.{media[1]}", media[2], sha, _media_provenance(ws, media)))
    faces = [_add_face(ws, bundle, face) for face in detail.faces]
    _add_transcript(ws, bundle, sha)
    shown = [r.id for r in bundle.references if r.id in ref_ids]
    posts = post_records(footage_posts(ws, sid))
    bundle.audit_objects.update(f"media:{p['media_sha256']}" for p in posts)
    bundle.audit_objects.update(f"item:{c['item_id']}" for p in posts for c in p["captures"])
    bundle.sightings.append({
        "id": sid, "status": detail.status, "score": detail.score, "reasons": detail.reasons,
        "media_sha256": sha, "media_file": f"data/media/{sha}.{media[1]}", "clip_s": detail.clip,
        "post": detail.post, "faces": faces, "references": shown,
        "references_withheld": [r for r in ref_ids if r not in shown],
        "transcript_excerpt": _excerpt(detail), "model_versions": versions,
        "decisions": [d.__dict__ for d in decisions_for(ws, sid)], "posts": posts,
        "posted_at_places": sum(len(p["captures"]) for p in posts)})
    for matcher in ("faces", "names"):
        if matcher in versions:
            name, _, version = str(versions[matcher]).rpartition(" ")
            bundle.uses(f"svidok matcher {name or matcher}", version, "candidate matching")


def _add_face(ws: Workspace, bundle: Bundle, face: Any) -> dict[str, Any]:
    files = {}
    for folder, art in (("crops", face.crop_sha256), ("frames", face.frame_sha256)):
        if art:
            added = _add_artifact(ws, bundle, folder, art)
            files[folder] = f"data/{added.href}" if added else None
    row = ws.conn.execute("SELECT f.model, f.model_version, t.analyzer, t.analyzer_version FROM face f"
                          " LEFT JOIN track t ON t.id = f.track_id WHERE f.id = ?", (face.id,)).fetchone()
    if row:
        bundle.uses(row[0], row[1], "face embedding (archive)")
        if row[2]:
            bundle.uses(row[2], row[3], "face detection and tracking")
    return {"id": face.id, "time_s": face.time_s, "crop": files.get("crops"), "frame": files.get("frames")}


def _add_transcript(ws: Workspace, bundle: Bundle, sha: str) -> None:
    segments = ws.conn.execute(
        "SELECT start_s, end_s, text, language, model, model_version FROM transcript_segment"
        " WHERE media_sha256 = ? ORDER BY start_s", (sha,)).fetchall()
    if segments:
        keys = ("start", "end", "text", "language", "model", "model_version")
        bundle.transcripts[sha] = [dict(zip(keys, s)) for s in segments]
        bundle.uses(segments[0][4], segments[0][5], "speech transcription")


def _excerpt(detail: SightingDetail) -> list[dict[str, Any]]:
    return [{"start": t.start_s, "end": t.end_s, "text": t.text, "language": t.language,
             "name_heard": [list(span) for span in t.highlight]} for t in detail.transcript]


def _media_provenance(ws: Workspace, media: tuple) -> dict[str, Any]:
    sha, ext, _path, size, mime, first_seen, original = media
    items = ws.conn.execute(
        "SELECT i.source_kind, i.source_id, i.channel, i.url, i.posted_at, i.collected_at, i.collector,"
        " i.collector_version, im.source_ref, i.id FROM item_media im JOIN item i ON i.id = im.item_id"
        " WHERE im.media_sha256 = ? ORDER BY i.collected_at", (sha,)).fetchall()
    keys = ("source_kind", "source_id", "channel", "source_url", "posted_at", "capture_time", "collector",
            "collector_version", "source_ref", "item_id")
    return scrub({"file": f"data/media/{sha}.{ext}", "kind": "original", "sha256_at_capture": sha, "size": size,
                  "mime": mime, "first_captured": first_seen, "original_name": original,
                  "captured_from": [dict(zip(keys, i)) for i in items]})


def _add_artifact(ws: Workspace, bundle: Bundle, folder: str, sha: str) -> BagFile | None:
    row = ws.conn.execute("SELECT sha256, kind, source_sha256, time_s, mime, path, producer, created_at"
                          " FROM artifact WHERE sha256 = ?", (sha,)).fetchone()
    if row is None:
        bundle.excluded.append(f"{folder} {sha}: no artifact record")
        return None
    name = row[5].rsplit("/", 1)[-1]
    added = BagFile(folder, name, row[5], sha, {
        "file": f"data/{folder}/{name}", "kind": row[1], "sha256_at_creation": sha, "derived_from_sha256": row[2],
        "time_s": row[3], "mime": row[4], "producer": row[6], "created_at": row[7]})
    bundle.add(added)
    return added


def _add_consents(ws: Workspace, bundle: Bundle, person_id: int, rcpt: Recipient) -> None:
    """The active consents that grant the recipient's scope: the ones this package relies on."""
    for cid, given_by, relation, given_on, scopes, doc, created in ws.conn.execute(
            "SELECT id, given_by, relation, given_on, scopes, document_ref, created_at FROM consent"
            " WHERE person_id = ? AND revoked_at IS NULL ORDER BY id", (person_id,)):
        if rcpt.scope in json.loads(scopes or "[]"):
            bundle.consents.append(ConsentRecord(cid, given_by, relation, given_on, json.loads(scopes), doc, created))
            bundle.audit_objects.add(f"consent:{cid}")


def _add_references(ws: Workspace, bundle: Bundle, person_id: int, rcpt: Recipient) -> None:
    rows = ws.conn.execute(
        "SELECT r.id, r.photo_sha256, r.photo_path, r.photo_date, r.model, r.model_version, c.id, c.scopes,"
        " c.relation, c.given_on, r.box FROM reference r JOIN consent c ON c.id = r.consent_id"
        " WHERE r.person_id = ? AND c.revoked_at IS NULL ORDER BY r.id", (person_id,)).fetchall()
    for rid, sha, path, photo_date, model, version, cid, scopes, relation, given_on, box in rows:
        if not rcpt.references_allowed or rcpt.scope not in json.loads(scopes or "[]"):
            bundle.excluded.append(f"reference photo {rid}: consent {cid} does not allow it to go to {rcpt.key}")
            continue
        name = path.rsplit("/", 1)[-1]
        bundle.add(BagFile("references", name, path, sha, {
            "file": f"data/references/{name}", "kind": "reference-photo", "sha256_at_enrolment": sha,
            "photo_date": photo_date, "consent": {"id": cid, "relation": relation, "given_on": given_on,
                                                  "scopes": json.loads(scopes)},
            "embedding_model": f"{model} {version}"}))
        bundle.references.append(ReferenceEvidence(rid, f"data/references/{name}", sha, photo_date, cid,
                                                   f"{model} {version}", json.loads(box or "null")))
        bundle.audit_objects.add(f"reference:{rid}")
        bundle.uses(model, version, "face embedding (reference photos)")
