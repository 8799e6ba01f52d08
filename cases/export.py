"""Evidence packages: a case, filtered by consent for one recipient, as a signed BagIt 1.0 bag.

    <out>/case-<id>-<recipient>-<UTC time>/      the bag (BagIt 1.0, RFC 8493)
        bagit.txt, bag-info.txt (audit tip, signing key fingerprint), manifest-sha256.txt,
        tagmanifest-sha256.txt
        signature/    Ed25519 signature of the tag manifest, public key, RFC 3161 timestamp (cases/package_sign.py)
        data/summary.html, summary.pdf   bilingual (uk/en) summary with the images (cases/summary.py)
        data/case.json, consent.json, custody.json, provenance.json (cases/records.py, cases/custody.py)
        data/media/ crops/ frames/ references/ transcripts/
    <out>/case-<id>-<recipient>-<UTC time>.zip   the same bag as one file, to hand over

Steps: 1 check consent, 2 gather rows, 3 load (or create) the signing key, 4 copy files
(re-hashing each against its content address), 5 append this export's begin entry to the
audit log (its hash is the audit tip the package records), 6 write the records and the
summary, 7 refuse if any local path got in, 8 seal, validate, sign, timestamp and zip the bag,
9 audit the export (a delivery to the named recipient: which sightings and reference photos it
took, the package's tag manifest hash). A failure removes what was written; only the begin
entry stays in the audit log, recording the attempt.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import bagit
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok import __version__
from svidok.cases.bag import seal_bag, zip_bag
from svidok.cases.case import case_person
from svidok.cases.custody import build_custody
from svidok.cases.evidence import Bundle, gather
from svidok.cases.holdings import packages_holding
from svidok.cases.local_paths import find_leaks, needles
from svidok.cases.package_sign import Signed, SigningError, fingerprint, key_path, load_or_create_key, sign_bag
from svidok.cases.recipients import Recipient, RecipientError, recipient
from svidok.cases.records import ExportContext, case_document, write_records
from svidok.cases.summary import write_summary
from svidok.cases.timestamp import TimestampError
from svidok.foundation.clock import utc_now
from svidok.foundation.settings import ExportSettings
from svidok.foundation.store import copy_out, sha256_file
from svidok.foundation.workspace import Workspace
from svidok.matching.face_matcher import active_face_threshold

__all__ = ["ExportError", "ExportResult", "active_scopes", "export_case", "packages_holding"]


class ExportError(ValueError):
    """The package could not be written (consent, integrity, nothing to export, signing)."""


@dataclass(frozen=True)
class ExportResult:
    bag: Path
    files: int                       # payload files (under data/)
    recipient: str
    sightings: list[int]
    references: int
    excluded: list[str] = field(default_factory=list)
    package: Path | None = None      # the single file to hand over
    signing_key_sha256: str = ""
    timestamp: str | None = None     # the TSA's time, when timestamped


def active_scopes(ws: Workspace, person_id: int) -> set[str]:
    scopes: set[str] = set()
    for (raw,) in ws.conn.execute("SELECT scopes FROM consent WHERE person_id = ? AND revoked_at IS NULL",
                                  (person_id,)):
        scopes.update(json.loads(raw or "[]"))
    return scopes


def export_case(ws: Workspace, case_id: int, recipient_name: str, out_dir: Path, actor: str,
                settings: ExportSettings | None = None) -> ExportResult:
    """Write the consent-filtered, signed evidence package of a case for one recipient."""
    settings = settings or ws.settings.export
    rcpt = _recipient(recipient_name)
    # 1. consent: the recipient's scope must be granted by an active consent
    person_id = case_person(ws, case_id)
    if rcpt.scope not in active_scopes(ws, person_id):
        raise ExportError(f"no active consent for person {person_id} grants scope {rcpt.scope!r},"
                          f" needed to share with {rcpt.key}; nothing exported")
    # 2. gather what may leave
    bundle = gather(ws, case_id, rcpt)
    if not bundle.sightings:
        raise ExportError(f"case {case_id} has no confirmed sightings attached; nothing to export")
    # 3. the organisation's key (created on the first export)
    try:
        key = load_or_create_key(key_path(ws.root, settings))
    except SigningError as exc:
        raise ExportError(str(exc)) from None
    bag_dir = out_dir / f"case-{case_id}-{rcpt.key}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    package = out_dir / f"{bag_dir.name}.zip"
    if bag_dir.exists() or package.exists():
        raise ExportError(f"{bag_dir} already exists")
    (bag_dir / "data").mkdir(parents=True)
    try:
        _copy_files(ws, bundle, bag_dir / "data")                                      # 4
        signed, tip = _write_package(ws, case_id, rcpt, recipient_name, actor, bundle, bag_dir, key, settings)
        zip_bag(bag_dir, package)
    except BaseException as exc:
        shutil.rmtree(bag_dir, ignore_errors=True)
        package.unlink(missing_ok=True)
        if isinstance(exc, (SigningError, TimestampError)):
            raise ExportError(f"{exc}; nothing exported") from None
        raise
    return _audit_export(ws, actor, case_id, rcpt, recipient_name, bundle, bag_dir, package, signed, tip)


def _recipient(name: str) -> Recipient:
    try:
        return recipient(name)
    except RecipientError as exc:
        raise ExportError(str(exc)) from None


def _write_package(ws: Workspace, case_id: int, rcpt: Recipient, name: str, actor: str, bundle: Bundle,
                   bag_dir: Path, key: Ed25519PrivateKey, settings: ExportSettings) -> tuple[Signed, str]:
    # 5. this export's begin entry: the audit tip the package records
    tip_seq = ws.audit.append(actor, "case.export.begin", f"case:{case_id}", {
        "recipient": name, "scope": rcpt.scope, "package": bag_dir.name,
        "sightings": [s["id"] for s in bundle.sightings]})
    ctx = ExportContext(case_id, rcpt, name, settings.organisation, actor, utc_now(),
                        fingerprint(key.public_key()), active_face_threshold(ws).threshold)
    # 6. records and the summary
    custody = build_custody(ws, bundle, ws.audit.verify(), tip_seq)
    doc = case_document(ws, ctx, bundle)
    consents = write_records(bag_dir / "data", doc, bundle, custody)
    write_summary(bag_dir / "data", doc, custody, consents,
                  [{"file": f.provenance["file"], "sha256": f.sha256} for f in bundle.files])
    # 7. nothing of this machine's folders may leave
    leaks = find_leaks(bag_dir, needles(ws.root, bag_dir.parent))
    if leaks:
        raise ExportError(f"refusing to export: local paths found in {', '.join(leaks)}")
    # 8. seal as BagIt 1.0, validate with bagit itself, sign (and timestamp)
    tip = custody["audit_verify"]["tip"]
    seal_bag(bag_dir, _bag_info(ctx, tip, tip_seq))
    bagit.Bag(str(bag_dir)).validate()
    return sign_bag(bag_dir, key, settings), tip


def _copy_files(ws: Workspace, bundle: Bundle, data: Path) -> None:
    for f in bundle.files:
        target = data / f.folder / f.name
        if target.exists():
            continue
        source = ws.path(f.relpath)
        if not source.is_file():
            raise ExportError(f"{f.relpath} is missing from the workspace")
        copy_out(source, target)
        if sha256_file(target) != f.sha256:
            raise ExportError(f"{f.relpath} no longer matches its SHA-256; refusing to export altered evidence")


def _bag_info(ctx: ExportContext, tip: str, tip_seq: int) -> dict[str, str]:
    return {"Source-Organization": ctx.organisation, "Bag-Software-Agent": f"svidok {__version__}",
            "External-Identifier": f"svidok-case-{ctx.case_id}", "External-Description":
            f"Evidence package for case {ctx.case_id}, prepared for {ctx.recipient.description} ({ctx.recipient_name})",
            "Svidok-Recipient": ctx.recipient_name, "Svidok-Consent-Scope": ctx.recipient.scope,
            "Svidok-Exported-At": ctx.at, "Svidok-Audit-Tip": tip, "Svidok-Audit-Tip-Seq": str(tip_seq),
            "Svidok-Signing-Key-SHA256": ctx.key_fingerprint}


def _audit_export(ws: Workspace, actor: str, case_id: int, rcpt: Recipient, name: str, bundle: Bundle,
                  bag_dir: Path, package: Path, signed: Signed, tip: str) -> ExportResult:
    # 9. the export itself is audited
    files = sum(1 for p in (bag_dir / "data").rglob("*") if p.is_file())
    references = sorted(f.sha256 for f in bundle.files if f.folder == "references")
    stamp = signed.timestamp.at if signed.timestamp else None
    ws.audit.append(actor, "case.export", f"case:{case_id}", {
        "recipient": name, "scope": rcpt.scope, "bag": str(bag_dir), "package": str(package), "files": files,
        "sightings": [s["id"] for s in bundle.sightings], "audit_tip_in_bag": tip, "references": references,
        "tagmanifest_sha256": sha256_file(bag_dir / "tagmanifest-sha256.txt"),
        "package_sha256": sha256_file(package), "signing_key_sha256": signed.fingerprint, "timestamp": stamp})
    return ExportResult(bag_dir, files, rcpt.key, [s["id"] for s in bundle.sightings], len(references),
                        bundle.excluded, package, signed.fingerprint, stamp)
