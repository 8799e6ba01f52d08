"""Sign an evidence package with the organisation's Ed25519 key, and timestamp the signature.

The key is the setting `export.signing_key_file`, else `<workspace>/keys/package-signing-ed25519.pem`,
created on the first export (PKCS#8 PEM, mode 0600, folder 0700) with its public key beside it
(`.pub.pem`): the organisation publishes that public key (or its fingerprint), and a recipient
checks packages against it (`svidok package verify --public-key`).

What is signed is the bytes of `tagmanifest-sha256.txt`. It pins `bagit.txt`, `bag-info.txt`
(which holds the audit tip and the key's fingerprint) and `manifest-sha256.txt`, which pins
every payload file; so one signature covers every byte of the bag except the signature folder:

    signature/
        tagmanifest-sha256.txt.sig       the raw 64-byte Ed25519 signature
        signing-key.pub.pem              the public key (its SHA-256 is in bag-info.txt)
        tagmanifest-sha256.txt.sig.tsr   RFC 3161 timestamp of the signature (when a TSA is configured)
        README.txt                       how to check all of it with openssl alone
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from svidok.cases.timestamp import Timestamp, check_timestamp, load_roots, request_timestamp
from svidok.foundation.settings import ExportSettings

KEY_NAME = "package-signing-ed25519.pem"
SIG_DIR = "signature"
SIGNATURE = f"{SIG_DIR}/tagmanifest-sha256.txt.sig"
PUBLIC_KEY = f"{SIG_DIR}/signing-key.pub.pem"
TIMESTAMP = f"{SIG_DIR}/tagmanifest-sha256.txt.sig.tsr"
README = f"{SIG_DIR}/README.txt"


class SigningError(ValueError):
    """The signing key could not be read or created."""


@dataclass(frozen=True)
class Signed:
    fingerprint: str               # SHA-256 of the raw public key, hex
    timestamp: Timestamp | None


def key_path(workspace_root: Path, settings: ExportSettings) -> Path:
    return Path(settings.signing_key_file) if settings.signing_key_file else workspace_root / "keys" / KEY_NAME


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The private key at `path`; created (0600, folder 0700, public key beside it) when absent."""
    if not path.exists():
        _create_key(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"the signing key {path} is not an Ed25519 key")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:                 # another export created it meanwhile
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    path.with_name(path.name.removesuffix(".pem") + ".pub.pem").write_bytes(public_pem(key.public_key()))


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (a private key's PEM gives its public half)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(pem, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise SigningError(f"not an Ed25519 key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError("not an Ed25519 key")
    return key


def sign_bag(bag: Path, key: Ed25519PrivateKey, settings: ExportSettings) -> Signed:
    """Write the signature folder of a sealed bag; timestamp the signature if a TSA is configured."""
    signature = key.sign((bag / "tagmanifest-sha256.txt").read_bytes())
    (bag / SIG_DIR).mkdir(exist_ok=True)
    (bag / SIGNATURE).write_bytes(signature)
    (bag / PUBLIC_KEY).write_bytes(public_pem(key.public_key()))
    stamp = None
    if settings.tsa_url:
        stamp = request_timestamp(settings.tsa_url, signature, settings.tsa_timeout_s)
        if settings.tsa_ca_file:
            check_timestamp(stamp.token, signature, load_roots(settings.tsa_ca_file))
        (bag / TIMESTAMP).write_bytes(stamp.token)
    (bag / README).write_text(_readme(stamp is not None), encoding="utf-8")
    return Signed(fingerprint(key.public_key()), stamp)


def _readme(stamped: bool) -> str:
    lines = [
        "This package is a BagIt 1.0 bag signed with the exporting organisation's Ed25519 key.",
        "Пакет — це BagIt 1.0, підписаний ключем Ed25519 організації, що його експортувала.",
        "",
        "1. The key: compare the SHA-256 of the raw public key with the fingerprint the organisation publishes",
        "   (also in bag-info.txt, Svidok-Signing-Key-SHA256).",
        "2. The signature over tagmanifest-sha256.txt (OpenSSL 3):",
        "   openssl pkeyutl -verify -pubin -inkey signature/signing-key.pub.pem -rawin \\",
        "     -in tagmanifest-sha256.txt -sigfile signature/tagmanifest-sha256.txt.sig",
        "3. The manifests: sha256sum -c tagmanifest-sha256.txt && sha256sum -c manifest-sha256.txt",
    ]
    if stamped:
        lines += ["4. The timestamp (RFC 3161) over the signature, with the TSA's root certificate:",
                  "   openssl ts -verify -data signature/tagmanifest-sha256.txt.sig \\",
                  "     -in signature/tagmanifest-sha256.txt.sig.tsr -CAfile TSA-ROOT.pem"]
    lines += ["", "Or, with Svidok: svidok package verify PACKAGE.zip --public-key ORGANISATION.pub.pem"]
    return "\n".join(lines) + "\n"
