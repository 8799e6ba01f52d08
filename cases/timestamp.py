"""RFC 3161 trusted timestamps: ask a time-stamping authority (TSA), check what it answers.

A package's signature is timestamped: the token proves the signature, and so everything it
signs, existed at the TSA's time. `request_timestamp` POSTs a TimeStampReq (SHA-256 imprint,
a nonce, certificate requested) as `application/timestamp-query` and checks the answer:
granted, same imprint, same nonce. `check_timestamp` checks a stored token against the data
it covers and, when given trusted roots, the TSA's certificate chain and signature; without
roots only the certificate inside the token is used, which proves the token was not altered
but not who issued it (reported as a warning by the caller).

The token is stored exactly as the TSA sent it. OpenSSL-based TSAs send the certificates of the
SignedData in chain order, while DER wants that SET OF sorted, and rfc3161-client's parser
insists on DER; `_sorted_certificates` sorts them (same bytes, same length, and no signature
covers that field) before parsing.
"""

from __future__ import annotations

import hashlib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

CONTENT_TYPE = "application/timestamp-query"


class TimestampError(ValueError):
    """The TSA could not be reached, refused, or answered something that does not check."""


@dataclass(frozen=True)
class Timestamp:
    token: bytes          # the DER TimeStampResp
    at: str               # the TSA's time, ISO 8601 UTC
    tsa: str              # the TSA certificate's subject, when the token carries it


def request_timestamp(url: str, data: bytes, timeout_s: float) -> Timestamp:
    """Get a timestamp for `data` from the TSA at `url` (direct connection, no proxy)."""
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    http = urllib.request.Request(url, data=request.as_bytes(), method="POST",
                                  headers={"Content-Type": CONTENT_TYPE, "Accept": "application/timestamp-reply"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(http, timeout=timeout_s) as answer:
            body = answer.read(1024 * 1024)
    except OSError as exc:
        raise TimestampError(f"time-stamping authority {url} did not answer: {exc}") from None
    stamp = parse_timestamp(body, data)
    if _decode(body).tst_info.nonce != request.nonce:
        raise TimestampError("the timestamp's nonce is not the one sent")
    return stamp


def parse_timestamp(token: bytes, data: bytes) -> Timestamp:
    """Decode a token and check it is granted and covers `data` (no certificate check)."""
    response = _decode(token)
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the TSA refused: status {response.status} {' '.join(response.status_string)}")
    if response.tst_info.message_imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("the timestamp covers other data")
    return Timestamp(token, response.tst_info.gen_time.isoformat(), _subject(response))


def check_timestamp(token: bytes, data: bytes, roots: list[x509.Certificate]) -> Timestamp:
    """Check a token over `data`: imprint, then signature and chain to `roots` (else to its own certificate)."""
    stamp = parse_timestamp(token, data)
    response = _decode(token)
    trusted = roots or [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    if not trusted:
        raise TimestampError("the timestamp carries no certificate and no trusted root was given")
    builder = VerifierBuilder()
    for cert in trusted:
        builder = builder.add_root_certificate(cert)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        raise TimestampError(f"the timestamp's signature does not check: {exc}") from None
    return stamp


def load_roots(path: str | Path) -> list[x509.Certificate]:
    """Certificates from a PEM file (the TSA's root and any intermediates)."""
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TimestampError(f"cannot read trusted TSA certificates from {path}: {exc}") from None


def _decode(token: bytes):
    try:
        return decode_timestamp_response(_sorted_certificates(token))
    except ValueError as exc:
        raise TimestampError(f"not a timestamp response: {exc}") from None


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end) of the DER element at `pos`."""
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError("indefinite or oversized length")
    length = int.from_bytes(data[pos + 2: pos + 2 + count], "big")
    return tag, pos + 2 + count, pos + 2 + count + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        tag, body, stop = _tlv(data, pos)
        out.append((tag, pos, body, stop))
        pos = stop
    return out


def _sorted_certificates(token: bytes) -> bytes:
    """The token with SignedData.certificates in DER order (unchanged when already so, or unparsable)."""
    try:
        _, body, end = _tlv(token, 0)
        content_info = _children(token, body, end)[1]                   # TimeStampResp.timeStampToken
        explicit = _children(token, content_info[2], content_info[3])[1]  # [0] EXPLICIT content
        signed = _children(token, explicit[2], explicit[3])[0]          # SignedData
        certs = next((c for c in _children(token, signed[2], signed[3]) if c[0] == 0xA0), None)
    except (IndexError, ValueError):
        return token
    if certs is None:
        return token
    parts = [token[a:b] for _, a, _, b in _children(token, certs[2], certs[3])]
    longest = max((len(p) for p in parts), default=0)
    ordered = b"".join(sorted(parts, key=lambda p: p.ljust(longest, b"\0")))
    return token[:certs[2]] + ordered + token[certs[3]:]


def _subject(response) -> str:
    for der in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        try:
            if x509.ExtendedKeyUsageOID.TIME_STAMPING in cert.extensions.get_extension_for_class(
                    x509.ExtendedKeyUsage).value:
                return cert.subject.rfc4514_string()
        except x509.ExtensionNotFound:
            continue
    return ""
