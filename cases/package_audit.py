"""Check the audit tip and entries an evidence package records (used by `svidok package verify`).

Inside the package alone (what a recipient can do): the tip recorded in bag-info.txt and in
custody.json agree; the tip entry recomputes to the tip; every shipped entry that was not
redacted recomputes to its hash; none is newer than the tip; neighbouring entries chain.

Against a workspace (what the exporting organisation can do): its audit chain verifies; the
entry at the tip's seq has the tip's hash (the chain was neither rewritten nor cut back below
the export); every shipped entry, redacted or not, has the same hash there; and a `case.export`
entry names this package's tag manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from svidok.foundation.audit import _entry_hash
from svidok.foundation.workspace import Workspace


@dataclass
class AuditCheck:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def recompute(entry: dict[str, Any]) -> str:
    """The hash an audit entry must have, from its shipped fields."""
    details = json.dumps(entry["details"], ensure_ascii=False, sort_keys=True, default=str)
    return _entry_hash(entry["prev_hash"], entry["seq"], entry["at"], entry["actor"], entry["action"],
                       entry["object"], details)


def check_inside(custody: dict[str, Any], bag_tip: str | None) -> AuditCheck:
    check = AuditCheck()
    verified, tip_entry = custody.get("audit_verify") or {}, custody.get("tip_entry")
    tip = verified.get("tip")
    check.facts.update({"tip": tip, "tip_seq": verified.get("entries")})
    if not tip or not isinstance(tip_entry, dict):
        check.problems.append("custody.json records no audit tip")
        return check
    if bag_tip != tip:
        check.problems.append(f"bag-info.txt Svidok-Audit-Tip {bag_tip} differs from custody.json's tip {tip}")
    if tip_entry.get("hash") != tip or _safe_recompute(tip_entry) != tip:
        check.problems.append("the audit tip does not recompute from the tip entry recorded with it")
    if tip_entry.get("seq") != verified.get("entries"):
        check.problems.append("the tip entry's seq is not the number of audit entries recorded")
    if not verified.get("ok"):
        check.warnings.append("the audit chain had problems when this package was exported")
    _check_entries(custody.get("entries") or [], tip_entry, check)
    return check


def _check_entries(entries: list[dict[str, Any]], tip_entry: dict[str, Any], check: AuditCheck) -> None:
    by_seq = {e.get("seq"): e for e in entries}
    redacted = 0
    for entry in entries:
        if entry.get("seq", 0) > tip_entry["seq"]:
            check.problems.append(f"audit entry {entry.get('seq')} is newer than the recorded tip")
        if entry.get("redacted"):
            redacted += 1
        elif _safe_recompute(entry) != entry.get("hash"):
            check.problems.append(f"audit entry {entry.get('seq')} does not recompute to its hash")
        before = by_seq.get(entry.get("seq", 0) - 1)
        if before is not None and before.get("hash") != entry.get("prev_hash"):
            check.problems.append(f"audit entry {entry.get('seq')} does not chain to entry {before.get('seq')}")
    check.facts.update({"entries_shipped": len(entries), "entries_redacted": redacted})


def _safe_recompute(entry: dict[str, Any]) -> str | None:
    try:
        return recompute(entry)
    except (KeyError, TypeError, ValueError):
        return None


def check_workspace(ws: Workspace, custody: dict[str, Any], tagmanifest_sha256: str) -> AuditCheck:
    check = AuditCheck()
    report = ws.audit.verify()
    if not report.ok:
        check.problems.append(f"this workspace's audit chain is broken ({len(report.problems)} problem(s);"
                              " run `svidok audit verify`)")
    tip_entry = custody.get("tip_entry") or {}
    shipped = [tip_entry, *(custody.get("entries") or [])]
    marks = ",".join("?" * len(shipped))
    hashes = dict(ws.conn.execute(f"SELECT seq, hash FROM audit WHERE seq IN ({marks})",
                                  [e.get("seq") for e in shipped]).fetchall())
    if hashes.get(tip_entry.get("seq")) != tip_entry.get("hash"):
        check.problems.append(f"the audit tip recorded in the package (entry {tip_entry.get('seq')}) is not in this"
                              " workspace's audit chain")
    differing = [e.get("seq") for e in shipped[1:] if hashes.get(e.get("seq")) != e.get("hash")]
    if differing:
        check.problems.append(f"audit entries {differing} differ from this workspace's audit chain")
    check.facts.update({"workspace_entries": report.entries, "export_entry": _export_entry(ws, tagmanifest_sha256)})
    if check.facts["export_entry"] is None:
        check.warnings.append("no `case.export` entry of this workspace names this package")
    return check


def _export_entry(ws: Workspace, tagmanifest_sha256: str) -> int | None:
    for seq, details in ws.conn.execute("SELECT seq, details FROM audit WHERE action = 'case.export' ORDER BY seq"):
        if json.loads(details).get("tagmanifest_sha256") == tagmanifest_sha256:
            return int(seq)
    return None
