"""The chain of custody of an evidence package, from capture to this export.

    custody.json
        audit_verify  {ok, entries, tip}: the audit chain as verified at export; the tip is the
                      hash of this export's own `case.export.begin` entry (seq = entries)
        tip_entry     that entry, whole, so anyone can recompute the tip from it
        steps         capture → analysis → consent → enrollment → matching → decisions → case → export,
                      each {at, step, what, who, details, audit_seq}
        entries       the audit entries about this material (case, person, the consents relied on,
                      the references shipped, sightings, media, items, the match runs), with hashes

Analysis is not audited (it is re-runnable and stores its model and version on every row), so
its steps come from the `analysis` and `artifact` tables. An entry whose details held a local
path is shipped with the path replaced and `"redacted": true`; its hash can then be checked
only against the workspace (`cases.package_audit`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from svidok.cases.evidence import Bundle
from svidok.cases.local_paths import scrub, scrub_text
from svidok.foundation.audit import AuditReport
from svidok.foundation.workspace import Workspace

COLUMNS = "seq, at, actor, action, object, details, prev_hash, hash"


@dataclass(frozen=True)
class CustodyStep:
    at: str | None
    step: str            # capture, analysis, consent, enrollment, matching, decision, case, export
    what: str
    who: str
    details: dict[str, Any] = field(default_factory=dict)
    audit_seq: int | None = None


def audit_entry(row: tuple) -> dict[str, Any]:
    """One audit row as shipped: local paths replaced (and then marked `redacted`)."""
    seq, at, actor, action, obj, details, prev_hash, digest = row
    parsed = json.loads(details)
    clean_obj, clean_details = scrub_text(obj), scrub(parsed)
    entry = {"seq": seq, "at": at, "actor": actor, "action": action, "object": clean_obj, "details": clean_details,
             "prev_hash": prev_hash, "hash": digest}
    if clean_obj != obj or clean_details != parsed:
        entry["redacted"] = True
    return entry


def build_custody(ws: Workspace, bundle: Bundle, report: AuditReport, tip_seq: int) -> dict[str, Any]:
    """custody.json for a bundle; `tip_seq` is this export's begin entry."""
    tip = audit_entry(ws.conn.execute(f"SELECT {COLUMNS} FROM audit WHERE seq = ?", (tip_seq,)).fetchone())
    entries = _entries(ws, bundle, tip_seq)
    steps = [*_capture(bundle, entries), *_analysis(ws, bundle), *_consents(bundle, entries),
             *_enrollment(ws, bundle, entries), *_matching(ws, bundle, entries), *_decisions(bundle, entries),
             *_case(entries), _export(tip)]
    steps.sort(key=lambda s: (s.at or "9999", s.audit_seq or 0))
    return {"audit_verify": {"ok": report.ok, "entries": tip_seq, "tip": tip["hash"]}, "tip_entry": tip,
            "steps": [asdict(s) for s in steps], "entries": entries}


def _entries(ws: Workspace, bundle: Bundle, tip_seq: int) -> list[dict[str, Any]]:
    objects = sorted(bundle.audit_objects)
    marks = ",".join("?" * len(objects))
    rows = ws.conn.execute(f"SELECT {COLUMNS} FROM audit WHERE seq <= ? AND (object IN ({marks})"
                           " OR seq IN (SELECT seq FROM audit WHERE action = 'match.run')) ORDER BY seq",
                           [tip_seq, *objects]).fetchall()
    person = bundle.person.get("id")
    return [audit_entry(r) for r in rows
            if r[3] != "match.run" or person in json.loads(r[5]).get("persons", [])]


def _seq(entries: list[dict[str, Any]], action: str, obj: str) -> int | None:
    return next((e["seq"] for e in entries if e["action"].startswith(action) and e["object"] == obj), None)


def _capture(bundle: Bundle, entries: list[dict[str, Any]]) -> list[CustodyStep]:
    steps = []
    for f in (f for f in bundle.files if f.folder == "media"):
        for src in f.provenance.get("captured_from", []):
            where = src.get("source_url") or src.get("source_ref") or src.get("source_id")
            steps.append(CustodyStep(
                src.get("capture_time"), "capture", f"archived {f.provenance['file']} from {where}",
                f"{src.get('collector')} {src.get('collector_version')}",
                {"url": src.get("source_url"), "sha256": f.sha256, "source": f"{src['source_kind']}:{src['source_id']}",
                 "posted_at": src.get("posted_at")}, _seq(entries, "archive.item.", f"item:{src.get('item_id')}")))
    return steps


def _analysis(ws: Workspace, bundle: Bundle) -> list[CustodyStep]:
    steps = []
    for f in (f for f in bundle.files if f.folder == "media"):
        for analyzer, version, status, started, finished, params in ws.conn.execute(
                "SELECT analyzer, version, status, started_at, finished_at, params FROM analysis"
                " WHERE media_sha256 = ? ORDER BY started_at", (f.sha256,)):
            steps.append(CustodyStep(finished or started, "analysis", f"{analyzer} on {f.provenance['file']}: {status}",
                                     f"{analyzer} {version}", {"sha256": f.sha256, "params": json.loads(params or "{}")}))
    derived = [f for f in bundle.files if f.folder in ("crops", "frames")]
    for f in derived:
        p = f.provenance
        steps.append(CustodyStep(p.get("created_at"), "analysis", f"{p['kind']} {p['file']} derived from "
                                 f"{p['derived_from_sha256']}", str(p.get("producer")), {"sha256": f.sha256}))
    return steps


def _consents(bundle: Bundle, entries: list[dict[str, Any]]) -> list[CustodyStep]:
    return [CustodyStep(c.recorded_at, "consent", f"consent {c.id} given on {c.given_on} by the person's {c.relation},"
                        f" scopes {', '.join(c.scopes)}", _actor(entries, _seq(entries, "consent.add", f"consent:{c.id}")),
                        {"consent": c.id, "document_ref": c.document_ref}, _seq(entries, "consent.add", f"consent:{c.id}"))
            for c in bundle.consents]


def _enrollment(ws: Workspace, bundle: Bundle, entries: list[dict[str, Any]]) -> list[CustodyStep]:
    steps = []
    for r in bundle.references:
        created = ws.conn.execute("SELECT created_at FROM reference WHERE id = ?", (r.id,)).fetchone()
        seq = _seq(entries, "reference.enroll", f"reference:{r.id}")
        steps.append(CustodyStep(created[0] if created else None, "enrollment",
                                 f"reference photo {r.id} ({r.file}) enrolled under consent {r.consent_id}",
                                 _actor(entries, seq), {"sha256": r.sha256, "model": r.model}, seq))
    return steps


def _matching(ws: Workspace, bundle: Bundle, entries: list[dict[str, Any]]) -> list[CustodyStep]:
    steps = []
    runs = [e for e in entries if e["action"] == "match.run"]
    for s in bundle.sightings:
        created = ws.conn.execute("SELECT created_at FROM sighting WHERE id = ?", (s["id"],)).fetchone()[0]
        run = next((e for e in runs if e["at"] >= created), None)
        steps.append(CustodyStep(created, "matching", f"sighting {s['id']} proposed, score {s['score']:.2f}",
                                 run["actor"] if run else "svidok match",
                                 {"model_versions": s["model_versions"]}, run["seq"] if run else None))
    return steps


def _decisions(bundle: Bundle, entries: list[dict[str, Any]]) -> list[CustodyStep]:
    steps = []
    for s in bundle.sightings:
        for d in s["decisions"]:
            seq = next((e["seq"] for e in entries if e["object"] == f"sighting:{s['id']}" and e["actor"] == d["reviewer"]
                        and e["action"] in ("decision.record", "decision.resolve")), None)
            steps.append(CustodyStep(d["at"], "decision", f"sighting {s['id']}: {d['verdict']}", d["reviewer"],
                                     {"checklist": d["checklist"]}, seq))
    return steps


def _case(entries: list[dict[str, Any]]) -> list[CustodyStep]:
    said = {"case.open": lambda d: "case opened", "case.attach": lambda d: f"sighting {d.get('sighting')} attached",
            "case.note": lambda d: "note added",
            "case.export": lambda d: f"an earlier package exported for {d.get('recipient')}"}
    return [CustodyStep(e["at"], "case", said[e["action"]](e["details"]), e["actor"], e["details"], e["seq"])
            for e in entries if e["action"] in said]


def _export(tip: dict[str, Any]) -> CustodyStep:
    d = tip["details"]
    return CustodyStep(tip["at"], "export", f"this package prepared for {d.get('recipient')} (scope {d.get('scope')})",
                       tip["actor"], d, tip["seq"])


def _actor(entries: list[dict[str, Any]], seq: int | None) -> str:
    return next((e["actor"] for e in entries if e["seq"] == seq), "—")
