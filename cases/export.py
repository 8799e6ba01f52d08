"""Evidence packages: a case, filtered by consent for one recipient, written as a BagIt bag.

    <out>/case-<id>-<recipient>-<UTC time>/
        bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
        data/summary.html       human-readable summary
        data/case.json          person, sightings, reasons, reviewers' decisions and observations
        data/provenance.json    every payload file: source URL, capture time, SHA-256 at capture,
                                collector and version (or the producing analyzer)
        data/custody.json       audit entries about this material, the audit verify result and tip hash
        data/media/ crops/ frames/ transcripts/ references/

Steps: 1 check consent, 2 gather rows, 3 copy files (re-hashing each against its content
address), 4 write the JSON and the summary, 5 make and validate the bag, 6 audit the export
(a delivery to the named recipient: which sightings and which reference photos it took).

`packages_holding` answers the reverse question for consent revocation
(`matching.revocation`): which exports took a reference photo, and which copies of it lie
under <workspace>/exports.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit

from svidok import __version__
from svidok.cases.case import case_person, get_case
from svidok.cases.decisions import decisions_for
from svidok.cases.evidence import Bundle, gather
from svidok.cases.recipients import Recipient, RecipientError, recipient
from svidok.foundation.store import copy_out, sha256_file
from svidok.foundation.workspace import Workspace
from svidok.matching.revocation import ExportedPackage


class ExportError(ValueError):
    """The package could not be written (consent, integrity, nothing to export)."""


@dataclass(frozen=True)
class ExportResult:
    bag: Path
    files: int
    recipient: str
    sightings: list[int]
    references: int
    excluded: list[str] = field(default_factory=list)


def active_scopes(ws: Workspace, person_id: int) -> set[str]:
    scopes: set[str] = set()
    for (raw,) in ws.conn.execute("SELECT scopes FROM consent WHERE person_id = ? AND revoked_at IS NULL",
                                  (person_id,)):
        scopes.update(json.loads(raw or "[]"))
    return scopes


def export_case(ws: Workspace, case_id: int, recipient_name: str, out_dir: Path, actor: str) -> ExportResult:
    """Write the consent-filtered evidence package of a case for one recipient."""
    try:
        rcpt = recipient(recipient_name)
    except RecipientError as exc:
        raise ExportError(str(exc)) from None
    # 1. consent: the recipient's scope must be granted by an active consent
    person_id = case_person(ws, case_id)
    if rcpt.scope not in active_scopes(ws, person_id):
        raise ExportError(f"no active consent for person {person_id} grants scope {rcpt.scope!r},"
                          f" needed to share with {rcpt.key}; nothing exported")
    # 2. gather what may leave
    bundle = gather(ws, case_id, rcpt)
    if not bundle.sightings:
        raise ExportError(f"case {case_id} has no confirmed sightings attached; nothing to export")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    bag_dir = out_dir / f"case-{case_id}-{rcpt.key}-{stamp}"
    if bag_dir.exists():
        raise ExportError(f"{bag_dir} already exists")
    bag_dir.mkdir(parents=True)
    try:
        # 3-4. files, then the records that describe them
        _copy_files(ws, bundle, bag_dir)
        report = ws.audit.verify()
        _write_records(ws, case_id, rcpt, recipient_name, bundle, bag_dir, report)
        # 5. the bag, validated by bagit itself
        bag = bagit.make_bag(str(bag_dir), _bag_info(case_id, rcpt, recipient_name, report.tip),
                             checksums=["sha256"])
        bag.validate()
    except BaseException:
        shutil.rmtree(bag_dir, ignore_errors=True)
        raise
    files = sum(1 for p in (bag_dir / "data").rglob("*") if p.is_file())
    # 6. the export itself is audited
    ws.audit.append(actor, "case.export", f"case:{case_id}", {
        "recipient": recipient_name, "scope": rcpt.scope, "bag": str(bag_dir), "files": files,
        "sightings": [s["id"] for s in bundle.sightings], "audit_tip_in_bag": report.tip,
        "references": sorted(f.sha256 for f in bundle.files if f.folder == "references"),
        "tagmanifest_sha256": sha256_file(bag_dir / "tagmanifest-sha256.txt")})
    return ExportResult(bag_dir, files, rcpt.key, [s["id"] for s in bundle.sightings],
                        sum(1 for f in bundle.files if f.folder == "references"), bundle.excluded)


def _copy_files(ws: Workspace, bundle: Bundle, bag_dir: Path) -> None:
    for f in bundle.files:
        target = bag_dir / f.folder / f.name
        if target.exists():
            continue
        source = ws.path(f.relpath)
        if not source.is_file():
            raise ExportError(f"{f.relpath} is missing from the workspace")
        copy_out(source, target)
        if sha256_file(target) != f.sha256:
            raise ExportError(f"{f.relpath} no longer matches its SHA-256; refusing to export altered evidence")


def _custody(ws: Workspace, case_id: int, bundle: Bundle) -> list[dict[str, Any]]:
    objects = {f"case:{case_id}", *bundle.audit_objects}
    marks = ",".join("?" * len(objects))
    rows = ws.conn.execute(f"SELECT seq, at, actor, action, object, details, prev_hash, hash FROM audit"
                           f" WHERE object IN ({marks}) ORDER BY seq", sorted(objects)).fetchall()
    keys = ("seq", "at", "actor", "action", "object", "details", "prev_hash", "hash")
    return [{**dict(zip(keys, r)), "details": json.loads(r[5])} for r in rows]


def _write_records(ws: Workspace, case_id: int, rcpt: Recipient, name: str, bundle: Bundle, bag_dir: Path,
                   report: Any) -> None:
    for sighting in bundle.sightings:
        sighting["decisions"] = [d.__dict__ for d in decisions_for(ws, sighting["id"])]
    case = get_case(ws, case_id)
    doc = {"case": {"id": case_id, "opened": case.created_at, "officer": case.officer},
           "recipient": {"key": rcpt.key, "name": name, "scope": rcpt.scope, "description": rcpt.description},
           "person": bundle.person, "sightings": bundle.sightings, "transcripts": bundle.transcripts,
           "excluded": bundle.excluded,
           "note": "Each sighting is a candidate found by software and confirmed by independent human reviewers;"
                   " the face comparison is not an identification on its own."}
    custody = {"audit_verify": {"ok": report.ok, "entries": report.entries, "tip": report.tip},
               "entries": _custody(ws, case_id, bundle)}
    _dump(bag_dir / "case.json", doc)
    _dump(bag_dir / "provenance.json", [f.provenance for f in bundle.files])
    _dump(bag_dir / "custody.json", custody)
    for sha, segments in bundle.transcripts.items():
        _dump(bag_dir / "transcripts" / f"{sha}.json", segments)
    from svidok.cases.summary import render_summary

    (bag_dir / "summary.html").write_text(render_summary(doc, custody, bundle.files), encoding="utf-8")


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _bag_info(case_id: int, rcpt: Recipient, name: str, tip: str) -> dict[str, str]:
    return {"Source-Organization": "Svidok", "Bag-Software-Agent": f"svidok {__version__}",
            "External-Identifier": f"svidok-case-{case_id}", "External-Description":
            f"Evidence package for case {case_id}, prepared for {rcpt.description} ({name})",
            "Svidok-Recipient": name, "Svidok-Consent-Scope": rcpt.scope, "Svidok-Audit-Tip": tip}


def packages_holding(ws: Workspace, photos: set[str]) -> list[ExportedPackage]:
    """The evidence packages that held any of these reference photos (SHA-256), for revocation.

    Each export in the audit log is a delivery to a named recipient; the photos it took are in
    its entry (`references`), or for older entries in its bag's manifest while the bag exists.
    Bags and loose files under <workspace>/exports are searched too (by name, and by content
    for files of a photo's size); the copies found there are returned for deletion.
    """
    local = _copies_under_exports(ws, photos)
    packages = []
    for at, obj, details in ws.conn.execute("SELECT at, object, details FROM audit WHERE action = 'case.export'"
                                            " ORDER BY seq"):
        package = _delivery(ws, json.loads(details), at, int(obj.split(":")[1]), photos, local)
        if package is not None:
            packages.append(package)
    for bag, copies in local.values():                  # no export entry names them
        info = _read_bag_info(bag)
        case = info.get("External-Identifier", "").removeprefix("svidok-case-")
        packages.append(ExportedPackage(str(bag), info.get("Svidok-Recipient"), int(case) if case.isdigit() else None,
                                        info.get("Bagging-Date"), tuple(sorted(set(copies.values()))),
                                        _relpaths(ws, copies)))
    return packages


def _delivery(ws: Workspace, details: dict[str, Any], at: str, case_id: int, photos: set[str],
              local: dict[str, tuple[Path, dict[Path, str]]]) -> ExportedPackage | None:
    bag = Path(details["bag"])
    _, copies = local.pop(bag.name, (bag, {}))
    if "references" in details:
        held = set(details["references"]) & photos
    else:                                                # exported before entries listed the photos
        held = _manifest_photos(bag, photos) | set(copies.values())
    if not held and not copies:
        return None
    return ExportedPackage(details["bag"], details.get("recipient"), case_id, at,
                           tuple(sorted(held | set(copies.values()))), _relpaths(ws, copies))


def _copies_under_exports(ws: Workspace, photos: set[str]) -> dict[str, tuple[Path, dict[Path, str]]]:
    """Copies of the photos under <workspace>/exports: bag folder name -> (bag, {copy: photo})."""
    root = ws.root / "exports"
    marks = ",".join("?" * len(photos))
    sizes = {ws.path(p).stat().st_size for (p,) in ws.conn.execute(
        f"SELECT photo_path FROM reference WHERE photo_sha256 IN ({marks})", sorted(photos)) if ws.path(p).is_file()}
    found: dict[str, tuple[Path, dict[Path, str]]] = {}
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        sha = path.name.split(".")[0]
        if sha not in photos and path.stat().st_size in sizes:
            sha = sha256_file(path)
        if sha in photos:
            bag = _bag_of(path, root)
            found.setdefault(bag.name, (bag, {}))[1][path] = sha
    return found


def _bag_of(path: Path, root: Path) -> Path:
    """The bag folder holding a file under exports/ (else its top folder there)."""
    for folder in path.parents:
        if folder == root:
            break
        if (folder / "bagit.txt").is_file():
            return folder
    return root / path.relative_to(root).parts[0]


def _manifest_photos(bag: Path, photos: set[str]) -> set[str]:
    manifest = bag / "manifest-sha256.txt"
    if not manifest.is_file():
        return set()
    return {line.split(maxsplit=1)[0] for line in manifest.read_text(encoding="utf-8").splitlines()
            if line.strip()} & photos


def _read_bag_info(bag: Path) -> dict[str, str]:
    info = bag / "bag-info.txt"
    lines = info.read_text(encoding="utf-8").splitlines() if info.is_file() else []
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if v}


def _relpaths(ws: Workspace, copies: dict[Path, str]) -> tuple[str, ...]:
    return tuple(str(p.relative_to(ws.root)) for p in sorted(copies))
