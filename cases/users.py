"""UI users, passwords and login sessions.

Passwords are argon2id hashes. A session token lives only in the user's HttpOnly cookie; the
database keeps its SHA-256, so a copied database does not log anyone in. After
`review.login_max_failures` wrong passwords the account is locked for
`review.lockout_seconds` (attempts while locked are refused unchecked). Names that are no
user are counted and locked the same way, in memory, so the answers do not tell which names
exist. The review UI also slows down each client address (review_ui/throttle.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from svidok.cases.roles import Role
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace

HASHER = PasswordHasher()      # argon2id, RFC 9106 low-memory profile (argon2-cffi defaults)
DEFAULT_SETTINGS: dict[str, Any] = {"lang": "uk", "shield": True}
MIN_PASSWORD = 12


class UserError(ValueError):
    """A user could not be created or changed."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.settings.get("lang", DEFAULT_SETTINGS["lang"])

    @property
    def shield(self) -> bool:
        """Trauma-aware display: media greyscale and blurred until clicked, sound muted."""
        return bool(self.settings.get("shield", DEFAULT_SETTINGS["shield"]))


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked_for_s: int = 0     # >0: refused because the account is locked


def generate_password() -> str:
    """A strong random password (about 120 bits)."""
    return secrets.token_urlsafe(15)


def add_user(ws: Workspace, name: str, role: str, password: str, actor: str = "cli") -> int:
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r} (one of: {', '.join(r.value for r in Role)})")
    if not name.strip():
        raise UserError("user name is empty")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short (at least {MIN_PASSWORD} characters)")
    if ws.conn.execute("SELECT 1 FROM app_user WHERE name = ?", (name,)).fetchone():
        raise UserError(f"user {name!r} already exists")
    with ws.transaction():
        user_id = int(ws.conn.execute(
            "INSERT INTO app_user (name, role, password_hash, settings, created_at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (name, role, HASHER.hash(password), json.dumps(DEFAULT_SETTINGS), utc_now()),
        ).scalar_one())
        ws.audit.append(actor, "user.add", f"user:{user_id}", {"name": name, "role": role})
    return user_id


def _row_to_user(row: tuple) -> User:
    return User(row[0], row[1], row[2], {**DEFAULT_SETTINGS, **json.loads(row[3] or "{}")})


def get_user(ws: Workspace, user_id: int) -> User | None:
    row = ws.conn.execute("SELECT id, name, role, settings FROM app_user WHERE id = ?", (user_id,)).fetchone()
    return _row_to_user(row) if row else None


def _now() -> datetime:
    return datetime.now(UTC)


class UnknownNames:
    """Failed logins under names that are no user, counted in memory like `app_user` counts a
    user's, so that a wrong name is answered exactly like a wrong password, lockout included:
    neither the status nor the message tells which names exist. At most `size` names are kept
    (the least recently failed are forgotten first); one table per workspace, shared by threads."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._names: OrderedDict[str, tuple[int, str | None]] = OrderedDict()   # name -> (failures, locked until)

    def locked_until(self, name: str) -> str | None:
        with self._lock:
            return self._names.get(name, (0, None))[1]

    def fail(self, name: str, max_failures: int, lock: str) -> bool:
        """Count one failure; True when it locks the name until `lock` (and starts the count again)."""
        with self._lock:
            failures = self._names.pop(name, (0, None))[0] + 1
            locked = failures >= max_failures
            self._names[name] = (0, lock) if locked else (failures, None)
            while len(self._names) > self._size:
                self._names.popitem(last=False)
            return locked


@cache
def _unknown_names(root: Path) -> UnknownNames:
    return UnknownNames()


@dataclass(frozen=True)
class LoginAttempt:
    """A login looked up but not yet verified (verification is slow on purpose: run it off the event loop)."""

    name: str
    row: tuple | None
    password_hash: str
    refused: LoginResult | None = None


def _refusal(locked_until: str | None) -> LoginResult | None:
    if not locked_until or datetime.fromisoformat(locked_until) <= _now():
        return None
    return LoginResult(None, int((datetime.fromisoformat(locked_until) - _now()).total_seconds()) + 1)


def begin_login(ws: Workspace, name: str) -> LoginAttempt:
    """Look the name up. An unknown name gets a dummy hash to verify (same cost as a real check) and
    its own in-memory lockout: no user-name oracle."""
    row = ws.conn.execute(
        "SELECT id, name, role, settings, password_hash, failed_logins, locked_until, disabled"
        " FROM app_user WHERE name = ?", (name,),
    ).fetchone()
    if row is None:
        return LoginAttempt(name, None, _dummy_hash(), _refusal(_unknown_names(ws.root).locked_until(name)))
    return LoginAttempt(name, row, row[4], _refusal(row[6]))


def finish_login(ws: Workspace, attempt: LoginAttempt, password_ok: bool) -> LoginResult:
    """Count a failure (locking the account after too many) or clear the count on success."""
    if attempt.refused is not None:
        return attempt.refused
    row = attempt.row
    if row is None or row[7] or not password_ok:
        return _count_failure(ws, attempt)
    ws.conn.execute("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = ?", (row[0],))
    return LoginResult(_row_to_user(row[:4]))


def _count_failure(ws: Workspace, attempt: LoginAttempt) -> LoginResult:
    """One failure more, counted by one UPDATE (parallel failures all count), with its audit entry.
    The failure that reaches `login_max_failures` locks the account and starts the count again."""
    review = ws.settings.review
    lock = (_now() + timedelta(seconds=review.lockout_seconds)).isoformat()
    with ws.transaction():
        if attempt.row is None:                 # the same work as for a user: a write and an audit entry
            locked = _unknown_names(ws.root).fail(attempt.name, review.login_max_failures, lock)
            ws.audit.append("anonymous", "login.failed", "user:unknown", {"locked": locked})
        else:
            (failures,) = ws.conn.execute(
                "UPDATE app_user SET"
                " failed_logins = CASE WHEN failed_logins + 1 >= :max THEN 0 ELSE failed_logins + 1 END,"
                " locked_until = CASE WHEN failed_logins + 1 >= :max THEN :lock ELSE locked_until END"
                " WHERE id = :id RETURNING failed_logins",
                {"max": review.login_max_failures, "lock": lock, "id": attempt.row[0]}).fetchone()
            locked = failures == 0
            ws.audit.append(attempt.name, "login.failed", f"user:{attempt.row[0]}", {"locked": locked})
    return LoginResult(None, review.lockout_seconds if locked else 0)


def check_password(ws: Workspace, name: str, password: str) -> LoginResult:
    """Verify a login, counting failures and enforcing the lockout."""
    attempt = begin_login(ws, name)
    return finish_login(ws, attempt, attempt.refused is None and verify_password(attempt.password_hash, password))


@cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(ws: Workspace, user: User) -> tuple[str, str]:
    """Create a login session; returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = (_now() + timedelta(hours=ws.settings.review.session_hours)).isoformat()
    ws.conn.execute(
        "INSERT INTO login_session (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (_token_hash(token), user.id, csrf, utc_now(), expires),
    )
    ws.audit.append(user.name, "login", f"user:{user.id}")
    return token, csrf


def session_for(ws: Workspace, token: str | None) -> Session | None:
    """The live session a cookie token belongs to, or None."""
    if not token:
        return None
    row = ws.conn.execute(
        "SELECT u.id, u.name, u.role, u.settings, s.csrf_token, s.expires_at, u.disabled"
        " FROM login_session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = ?",
        (_token_hash(token),),
    ).fetchone()
    if row is None or row[6] or datetime.fromisoformat(row[5]) <= _now():
        return None
    return Session(_row_to_user(row[:4]), row[4])


def end_session(ws: Workspace, token: str, user: User) -> None:
    ws.conn.execute("DELETE FROM login_session WHERE token_hash = ?", (_token_hash(token),))
    ws.audit.append(user.name, "logout", f"user:{user.id}")


def update_settings(ws: Workspace, user: User, changes: dict[str, Any]) -> User:
    """Change a user's own display settings (language, trauma-aware display)."""
    allowed = {"lang": {"uk", "en"}, "shield": {True, False}}
    for key, value in changes.items():
        if key not in allowed or value not in allowed[key]:
            raise UserError(f"invalid setting {key}={value!r}")
    merged = {**user.settings, **changes}
    ws.conn.execute("UPDATE app_user SET settings = ? WHERE id = ?", (json.dumps(merged), user.id))
    return User(user.id, user.name, user.role, merged)
