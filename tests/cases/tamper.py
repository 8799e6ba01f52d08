"""Ways to change a package after export, as someone trying to alter evidence would: edit a
member of the ZIP, recompute the BagIt manifests, remove or redo the signature."""

from __future__ import annotations

import os

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


# --- the archive itself, changed behind Svidok's back (tests/cases/test_archive_verify.py) ---------------

def _plain_connection(db_path: Path):  # noqa: ANN202 - a DB-API connection
    """A plain driver connection to the workspace's database, as someone with the database's
    file (SQLite) or a login on its server (PostgreSQL, SVIDOK_DATABASE_URL) would open it."""
    url = os.environ.get("SVIDOK_DATABASE_URL")
    if url:
        import psycopg

        return psycopg.connect(url, autocommit=True)
    import sqlite3

    return sqlite3.connect(db_path, isolation_level=None)


def raw_sql(db_path: Path, *statements: tuple[str, tuple]) -> None:
    """Run statements on the workspace's database with a plain driver connection, as someone with
    the sqlite3 tool or psql would: no Svidok code, no audit entry."""
    conn = _plain_connection(db_path)
    postgresql = type(conn).__module__.startswith("psycopg")
    try:
        for sql, params in statements:
            if postgresql and sql.replace(" ", "").upper() == "PRAGMAFOREIGN_KEYS=OFF":
                sql = "SET session_replication_role = replica"       # foreign keys off, for this session
            if postgresql:
                conn.execute(sql.replace("?", "%s") if params else sql, params or None)
            else:
                conn.execute(sql, params)
    finally:
        conn.close()


def drop_audit_triggers(db_path: Path) -> None:
    """Remove the triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the audit table."""
    conn = _plain_connection(db_path)
    try:
        if type(conn).__module__.startswith("psycopg"):
            names = conn.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit'::regclass"
                                 " AND NOT tgisinternal").fetchall()
            for (name,) in names:
                conn.execute(f'DROP TRIGGER "{name}" ON audit')
            return
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")\
                .fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
    finally:
        conn.close()


def flip_byte(path: Path, offset: int = 100) -> None:
    """Change one bit of a stored (read-only) file in place."""
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 1
    path.write_bytes(bytes(data))
