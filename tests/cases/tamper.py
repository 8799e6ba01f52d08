"""Ways to change a package after export, as someone trying to alter evidence would: edit a
member of the ZIP, recompute the BagIt manifests, remove or redo the signature."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.cases.package_sign import PUBLIC_KEY, SIGNATURE, fingerprint, public_pem

Members = dict[str, bytes]           # path inside the bag -> bytes


def read_package(path: Path) -> tuple[str, Members]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        top = names[0].split("/", 1)[0]
        return top, {n[len(top) + 1:]: archive.read(n) for n in names if not n.endswith("/")}


def write_package(path: Path, top: str, members: Members) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            archive.writestr(f"{top}/{name}", data)
    return path


def _lines(members: Members, names: list[str]) -> bytes:
    return "".join(f"{hashlib.sha256(members[n]).hexdigest()}  {n}\n" for n in names).encode()


def recompute_manifests(members: Members) -> None:
    """Rewrite manifest-sha256.txt, Payload-Oxum and tagmanifest-sha256.txt for the changed payload."""
    payload = sorted(n for n in members if n.startswith("data/"))
    members["manifest-sha256.txt"] = _lines(members, payload)
    oxum = f"Payload-Oxum: {sum(len(members[n]) for n in payload)}.{len(payload)}"
    info = [oxum if line.startswith("Payload-Oxum:") else line
            for line in members["bag-info.txt"].decode().splitlines()]
    members["bag-info.txt"] = ("\n".join(info) + "\n").encode()
    members["tagmanifest-sha256.txt"] = _lines(members, ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"])


def set_bag_info(members: Members, label: str, value: str) -> None:
    lines = [f"{label}: {value}" if line.startswith(f"{label}:") else line
             for line in members["bag-info.txt"].decode().splitlines()]
    members["bag-info.txt"] = ("\n".join(lines) + "\n").encode()


def resign(members: Members, key: Ed25519PrivateKey) -> None:
    """Sign the (recomputed) tag manifest with another key, naming that key in bag-info.txt."""
    set_bag_info(members, "Svidok-Signing-Key-SHA256", fingerprint(key.public_key()))
    members["tagmanifest-sha256.txt"] = _lines(members, ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"])
    members[SIGNATURE] = key.sign(members["tagmanifest-sha256.txt"])
    members[PUBLIC_KEY] = public_pem(key.public_key())
