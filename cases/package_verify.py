"""Check an evidence package as a recipient (or a court, years later) would: `svidok package verify`.

1. the file: a ZIP with one top folder and safe names, or an unpacked bag (cases/package_files.py);
2. BagIt 1.0: bagit.txt; every payload file listed in manifest-sha256.txt with its SHA-256, none
   missing or unlisted, Payload-Oxum; tagmanifest-sha256.txt lists and matches bagit.txt,
   bag-info.txt and manifest-sha256.txt;
3. the signature: present; its public key's SHA-256 is the one bag-info.txt names; the Ed25519
   signature over tagmanifest-sha256.txt checks; and the key is the expected one — given with
   `--public-key` (the organisation's published key) or, with a workspace, that workspace's key.
   Without either, a warning says the key was not compared;
4. the timestamp, when present: it covers the signature; its TSA signature and chain check
   against the trusted roots (`--tsa-ca` or export.tsa_ca_file), else only against the
   certificate it carries (a warning);
5. the audit tip (cases/package_audit.py): consistent inside the package, and present in the
   workspace's audit chain when a workspace is given.
Any altered byte fails 2 or 3; recomputed manifests fail 3; a re-signed package fails the key
comparison of 3; a changed audit tip fails 3 and 5.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from svidok.cases import package_audit
from svidok.cases.bag import MANIFEST, TAG_FILES, TAGMANIFEST, parse_bag_info, parse_manifest
from svidok.cases.package_files import PackageError, PackageFiles, open_package
from svidok.cases.package_sign import PUBLIC_KEY, SIGNATURE, TIMESTAMP, SigningError, fingerprint, load_public_key
from svidok.cases.timestamp import TimestampError, check_timestamp
from svidok.foundation.workspace import Workspace


@dataclass(frozen=True)
class VerifyOptions:
    workspace: Workspace | None = None
    expected_key_pem: bytes | None = None          # the organisation's published public key
    tsa_roots: list[x509.Certificate] = field(default_factory=list)


@dataclass
class VerifyReport:
    package: str
    problems: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, kind: str, what: str) -> None:
        self.problems.append({"kind": kind, "what": what})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "warnings": self.warnings, "package": self.package,
                **self.facts}


def verify_package(path: Path, options: VerifyOptions) -> VerifyReport:
    report = VerifyReport(str(path))
    try:
        files = open_package(path)
    except PackageError as exc:
        report.problem("archive", str(exc))
        return report
    names = set(files.names())
    info = _check_bag(files, names, report)
    signature = _check_signature(files, names, info, options, report)
    if signature is not None:
        _check_timestamp(files, names, signature, options, report)
    _check_audit(files, names, info, options, report)
    return report


def _check_bag(files: PackageFiles, names: set[str], report: VerifyReport) -> dict[str, str]:
    for required in (*TAG_FILES, TAGMANIFEST):
        if required not in names:
            report.problem("bag", f"{required} is missing")
    if "bagit.txt" in names and not files.read("bagit.txt").decode("utf-8", "replace").startswith(
            "BagIt-Version: 1.0"):
        report.problem("bag", "bagit.txt does not declare BagIt-Version 1.0")
    info = parse_bag_info(files.read("bag-info.txt").decode("utf-8", "replace")) if "bag-info.txt" in names else {}
    payload = {n for n in names if n.startswith("data/")}
    listed = _manifest(files, names, MANIFEST, report)
    _compare(files, listed, payload, "payload", report)
    tags = _manifest(files, names, TAGMANIFEST, report)
    for required in TAG_FILES:
        if required not in tags:
            report.problem("manifest", f"{TAGMANIFEST} does not list {required}")
    _compare(files, tags, {n for n in tags if n in names}, "tag", report)
    octets, count = sum(files.size(n) for n in payload), len(payload)
    if info.get("Payload-Oxum") != f"{octets}.{count}":
        report.problem("manifest", f"Payload-Oxum {info.get('Payload-Oxum')} is not {octets}.{count}")
    report.facts.update({"bag": files.name, "files": count, "recipient": info.get("Svidok-Recipient")})
    return info


def _manifest(files: PackageFiles, names: set[str], manifest: str, report: VerifyReport) -> dict[str, str]:
    if manifest not in names:
        return {}
    try:
        return parse_manifest(files.read(manifest).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.problem("manifest", f"{manifest}: {exc}")
        return {}


def _compare(files: PackageFiles, listed: dict[str, str], present: set[str], what: str, report: VerifyReport) -> None:
    for name in sorted(set(listed) - present):
        report.problem("manifest", f"{name} is listed but missing")
    for name in sorted(present - set(listed)):
        report.problem("manifest", f"{what} file {name} is not in the manifest")
    for name in sorted(set(listed) & present):
        if files.sha256(name) != listed[name]:
            report.problem("manifest", f"{name} does not match its SHA-256 in the manifest")


def _check_signature(files: PackageFiles, names: set[str], info: dict[str, str], options: VerifyOptions,
                     report: VerifyReport) -> bytes | None:
    if SIGNATURE not in names or PUBLIC_KEY not in names or TAGMANIFEST not in names:
        report.problem("signature", "the package is not signed (signature/ is missing or incomplete)")
        return None
    signature = files.read(SIGNATURE)
    try:
        key = load_public_key(files.read(PUBLIC_KEY))
        key.verify(signature, files.read(TAGMANIFEST))
    except SigningError as exc:
        report.problem("signature", f"{PUBLIC_KEY}: {exc}")
        return None
    except InvalidSignature:
        report.problem("signature", f"the signature does not match {TAGMANIFEST}: the package was changed after signing")
        return None
    found = fingerprint(key)
    report.facts["signing_key_sha256"] = found
    if info.get("Svidok-Signing-Key-SHA256") != found:
        report.problem("signature", "the signing key is not the one bag-info.txt names")
    _compare_key(found, options, report)
    return signature


def _compare_key(found: str, options: VerifyOptions, report: VerifyReport) -> None:
    expected = options.expected_key_pem or _workspace_key(options.workspace)
    if expected is None:
        report.warnings.append("the signing key was not compared with the organisation's published key"
                               " (give --public-key)")
        return
    try:
        wanted = fingerprint(load_public_key(expected))
    except SigningError as exc:
        report.problem("signature", f"the expected key: {exc}")
        return
    if wanted != found:
        report.problem("signature", f"signed with key {found[:16]}…, not the organisation's key {wanted[:16]}…")


def _workspace_key(ws: Workspace | None) -> bytes | None:
    from svidok.cases.package_sign import key_path

    if ws is None:
        return None
    path = key_path(ws.root, ws.settings.export)
    return path.read_bytes() if path.is_file() else None


def _check_timestamp(files: PackageFiles, names: set[str], signature: bytes, options: VerifyOptions,
                     report: VerifyReport) -> None:
    if TIMESTAMP not in names:
        report.facts["timestamp"] = None
        return
    try:
        stamp = check_timestamp(files.read(TIMESTAMP), signature, options.tsa_roots)
    except TimestampError as exc:
        report.problem("timestamp", str(exc))
        return
    report.facts.update({"timestamp": stamp.at, "tsa": stamp.tsa})
    if not options.tsa_roots:
        report.warnings.append("the timestamp was checked only against the certificate it carries (give --tsa-ca)")


def _check_audit(files: PackageFiles, names: set[str], info: dict[str, str], options: VerifyOptions,
                 report: VerifyReport) -> None:
    if "data/custody.json" not in names:
        report.problem("audit", "data/custody.json is missing")
        return
    try:
        custody = json.loads(files.read("data/custody.json"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.problem("audit", f"data/custody.json is not JSON: {exc}")
        return
    try:
        checks = [package_audit.check_inside(custody, info.get("Svidok-Audit-Tip"))]
        if options.workspace is not None and TAGMANIFEST in names:
            tag_sha = hashlib.sha256(files.read(TAGMANIFEST)).hexdigest()
            checks.append(package_audit.check_workspace(options.workspace, custody, tag_sha))
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        report.problem("audit", f"data/custody.json is malformed: {type(exc).__name__}")
        return
    for check in checks:
        for problem in check.problems:
            report.problem("audit", problem)
        report.warnings.extend(check.warnings)
        report.facts.setdefault("audit", {}).update(check.facts)
    report.facts["audit"]["checked_against"] = "workspace" if len(checks) > 1 else "package only"
