"""The records of an evidence package, written into its data/ folder as UTF-8 JSON.

    case.json        case (opened, by whom, notes), recipient, person, sightings (reasons in
                     words, references shown, crops and frames, transcript excerpt, decisions),
                     models and versions, what a score means and its limits
    consent.json     the consent records this package relies on (who, relation, date, scope, document)
    custody.json     see cases/custody.py
    provenance.json  every payload file: where it came from, its SHA-256 then
    transcripts/<media sha256>.json

JSON is written with ensure_ascii=False: Cyrillic stays readable. No value holds a local path
(see cases/local_paths.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from svidok import __version__
from svidok.cases.case import get_case
from svidok.cases.evidence import Bundle
from svidok.cases.recipients import Recipient
from svidok.cases.wording import LIMITS, SCORE, Bilingual, explain_reason
from svidok.foundation.workspace import Workspace

FORMAT = "svidok-evidence-package/2"


@dataclass(frozen=True)
class ExportContext:
    """Who exports what for whom, decided before anything is written."""

    case_id: int
    recipient: Recipient
    recipient_name: str
    organisation: str
    actor: str
    at: str
    key_fingerprint: str
    face_threshold: float


def case_document(ws: Workspace, ctx: ExportContext, bundle: Bundle) -> dict[str, Any]:
    case = get_case(ws, ctx.case_id)
    for s in bundle.sightings:
        s["reasons_explained"] = [explain_reason(r, ctx.face_threshold).as_dict() for r in s["reasons"]]
    score = Bilingual(SCORE.uk.format(threshold=ctx.face_threshold), SCORE.en.format(threshold=ctx.face_threshold))
    return {
        "format": FORMAT, "organisation": ctx.organisation,
        "exported": {"at": ctx.at, "by": ctx.actor, "software": f"svidok {__version__}"},
        "case": {"id": ctx.case_id, "opened": case.created_at, "opened_by": _opened_by(ws, ctx.case_id),
                 "officer": case.officer, "notes": _notes(ws, ctx.case_id)},
        "recipient": {"key": ctx.recipient.key, "name": ctx.recipient_name, "scope": ctx.recipient.scope,
                      "description": ctx.recipient.description},
        "person": bundle.person, "consents": [c.id for c in bundle.consents],
        "references": [asdict(r) for r in bundle.references], "sightings": bundle.sightings,
        "models": [{"name": n, "version": v, "used_for": sorted(p)} for (n, v), p in sorted(bundle.models.items())],
        "score": {"explanation": score.as_dict(), "limits": LIMITS.as_dict(), "face_threshold": ctx.face_threshold},
        "transcripts": bundle.transcripts, "excluded": bundle.excluded, "signing_key_sha256": ctx.key_fingerprint,
        "note": "Each sighting is a candidate found by software and confirmed by independent human reviewers;"
                " the face comparison is not an identification on its own.",
    }


def write_records(data: Path, doc: dict[str, Any], bundle: Bundle, custody: dict[str, Any]) -> list[dict[str, Any]]:
    """Write the JSON records; returns the consent records (for the summary)."""
    consents = [asdict(c) for c in bundle.consents]
    dump(data / "case.json", doc)
    dump(data / "consent.json", consents)
    dump(data / "custody.json", custody)
    dump(data / "provenance.json", [f.provenance for f in bundle.files])
    for sha, segments in bundle.transcripts.items():
        dump(data / "transcripts" / f"{sha}.json", segments)
    return consents


def dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def _opened_by(ws: Workspace, case_id: int) -> str:
    row = ws.conn.execute("SELECT actor FROM audit WHERE action = 'case.open' AND object = ? ORDER BY seq LIMIT 1",
                          (f"case:{case_id}",)).fetchone()
    return row[0] if row else "—"


def _notes(ws: Workspace, case_id: int) -> list[dict[str, Any]]:
    raw = ws.conn.execute('SELECT notes FROM "case" WHERE id = ?', (case_id,)).fetchone()[0]
    try:
        notes = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return [{"at": "", "by": "", "text": raw}]
    return notes if isinstance(notes, list) else []
