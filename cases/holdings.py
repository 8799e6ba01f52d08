"""Which evidence packages held a reference photo: the reverse question, for consent revocation.

`packages_holding` is passed to `matching.revocation.revoke_consent` by the application. Each
export in the audit log is a delivery to a named recipient; the photos it took are in its
entry (`references`), or for older entries in its bag's manifest while the bag exists.
Under <workspace>/exports the local copies are found, to be deleted: the photo file in a bag
(by name, and by content for files of a photo's size), the bag's summary.pdf (it shows the
photo) and the package's single-file form `<bag>.zip` (it holds the photo).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from svidok.foundation.store import sha256_file
from svidok.foundation.workspace import Workspace
from svidok.matching.revocation import ExportedPackage

Copies = dict[str, tuple[Path, dict[Path, str]]]      # bag folder name -> (bag, {copy: photo sha256})


def packages_holding(ws: Workspace, photos: set[str]) -> list[ExportedPackage]:
    """The evidence packages that held any of these reference photos (SHA-256), for revocation."""
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
              local: Copies) -> ExportedPackage | None:
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


def _copies_under_exports(ws: Workspace, photos: set[str]) -> Copies:
    root = ws.root / "exports"
    marks = ",".join("?" * len(photos))
    sizes = {ws.path(p).stat().st_size for (p,) in ws.conn.execute(
        f"SELECT photo_path FROM reference WHERE photo_sha256 IN ({marks})", sorted(photos)) if ws.path(p).is_file()}
    found: Copies = {}
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix == ".zip" and path.parent == root:
            for sha in _zip_photos(path, photos):
                found.setdefault(path.stem, (root / path.stem, {}))[1][path] = sha
            continue
        sha = path.name.split(".")[0]
        if sha not in photos and path.stat().st_size in sizes:
            sha = sha256_file(path)
        if sha in photos:
            bag = _bag_of(path, root)
            found.setdefault(bag.name, (bag, {}))[1][path] = sha
    for bag, copies in found.values():
        pdf = bag / "data" / "summary.pdf"
        held = _manifest_photos(bag, photos)
        if held and pdf.is_file():
            copies[pdf] = min(held)
    return found


def _zip_photos(path: Path, photos: set[str]) -> set[str]:
    """The photos a package's ZIP file holds under <bag>/data/references/."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return set()
    return {n.rsplit("/", 1)[-1].split(".")[0] for n in names if "/data/references/" in n} & photos


def _bag_of(path: Path, root: Path) -> Path:
    """The bag folder holding a file under exports/ (else its top folder there)."""
    for folder in path.parents:
        if folder == root:
            break
        if (folder / "bagit.txt").is_file():
            return folder
    return root / path.relative_to(root).parts[0]


def _manifest_photos(bag: Path, photos: set[str]) -> set[str]:
    """Photos a bag's manifest lists (by checksum, or by name under data/references/)."""
    manifest = bag / "manifest-sha256.txt"
    if not manifest.is_file():
        return set()
    held = set()
    for line in manifest.read_text(encoding="utf-8").splitlines():
        checksum, _, name = line.partition(" ")
        held |= {checksum, name.strip().rsplit("/", 1)[-1].split(".")[0]}
    return held & photos


def _read_bag_info(bag: Path) -> dict[str, str]:
    info = bag / "bag-info.txt"
    lines = info.read_text(encoding="utf-8").splitlines() if info.is_file() else []
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if v}


def _relpaths(ws: Workspace, copies: dict[Path, str]) -> tuple[str, ...]:
    return tuple(str(p.relative_to(ws.root)) for p in sorted(copies))
