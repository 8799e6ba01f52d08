"""Logging in under attack: every failure counts, even in parallel; a wrong name is answered
exactly like a wrong password (no user-name oracle, no lockout oracle); one client address is
slowed down on its own, so it cannot keep a real user locked out; cookies are Secure over TLS."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

import svidok.cases.users
from svidok.review_ui.throttle import LoginThrottle
from tests.review_ui.conftest import CSRF, PASSWORD, login


def _limits(seeded, failures: int, lockout: int = 60) -> None:
    ws = seeded.ws
    ws.settings = dataclasses.replace(ws.settings, review=dataclasses.replace(
        ws.settings.review, login_max_failures=failures, lockout_seconds=lockout))


def _client(app, address: str = "testclient", base_url: str = "http://127.0.0.1:8765") -> TestClient:
    return TestClient(app, base_url=base_url, client=(address, 50000))


def _failed_logins(seeded, name: str) -> int:
    return seeded.ws.conn.execute("SELECT failed_logins FROM app_user WHERE name = ?", (name,)).fetchone()[0]


def test_parallel_wrong_passwords_each_count(seeded, app):
    _limits(seeded, failures=100)
    n = 8
    clients = [_client(app, f"192.0.2.{i}") for i in range(n)]
    tokens = [CSRF.search(c.get("/login").text).group(1) for c in clients]
    start = threading.Barrier(n)

    def attempt(i: int) -> int:
        start.wait()
        return clients[i].post("/login", data={"name": "rev1", "password": f"wrong {i}", "csrf": tokens[i]},
                               follow_redirects=False).status_code

    with ThreadPoolExecutor(n) as pool:
        codes = list(pool.map(attempt, range(n)))
    assert codes == [401] * n
    assert _failed_logins(seeded, "rev1") == n
    assert [e["action"] for e in seeded.ws.audit.entries()].count("login.failed") == n


def _answer(app, name: str, password: str, address: str) -> tuple[int, str]:
    """One login attempt from its own address (no per-address slowdown), CSRF token masked."""
    with _client(app, address) as client:
        response = login(client, name, password)
    return response.status_code, CSRF.sub("csrf", response.text)


def test_unknown_names_are_answered_like_known_ones_through_the_lockout(seeded, app, monkeypatch):
    _limits(seeded, failures=3)
    verified = []
    real_verify = svidok.cases.users.verify_password
    monkeypatch.setattr(svidok.cases.users, "verify_password", lambda h, p: verified.append(h) or real_verify(h, p))
    known = [_answer(app, "rev1", f"wrong {i}", f"198.51.100.{i}") for i in range(4)]
    checked_known, verified[:] = len(verified), []
    unknown = [_answer(app, "nobody", f"wrong {i}", f"203.0.113.{i}") for i in range(4)]
    assert [s for s, _ in known] == [401, 401, 429, 429]
    assert known == unknown                        # same statuses, same pages, word for word
    assert checked_known == len(verified) == 3     # a password is checked (against a dummy hash) all the same


def test_one_address_is_slowed_down_without_locking_others_out(seeded, app):
    _limits(seeded, failures=100)
    now = [1000.0]
    app.state.login_throttle = LoginThrottle(clock=lambda: now[0])
    attacker, user = _client(app, "203.0.113.5"), _client(app, "198.51.100.7")
    for i in range(LoginThrottle.FREE_FAILURES):
        assert login(attacker, "rev1", f"wrong {i}").status_code == 401
    slowed = login(attacker, "rev1", PASSWORD)     # even the right password: the address must wait first
    assert slowed.status_code == 429 and "svidok_session" not in slowed.cookies
    assert _failed_logins(seeded, "rev1") == LoginThrottle.FREE_FAILURES
    assert login(user, "rev1").status_code == 303  # another address is not slowed down
    now[0] += 1.0
    assert login(attacker, "rev1", "wrong again").status_code == 401
    now[0] += 1.0                                  # the wait doubles with each further failure
    assert login(attacker, "rev1", "and again").status_code == 429
    now[0] += 1.0
    assert login(attacker, "rev1", PASSWORD).status_code == 303


def _burst(app, monkeypatch, attempts: list[tuple[str, str]]) -> list[int]:
    """The attempts all at once from one address, on one event loop, each password check taking 0.2 s."""
    real_verify = svidok.cases.users.verify_password
    monkeypatch.setattr(svidok.cases.users, "verify_password", lambda h, p: time.sleep(0.2) or real_verify(h, p))
    start = threading.Barrier(len(attempts))
    with _client(app, "203.0.113.9") as client:
        token = CSRF.search(client.get("/login").text).group(1)

        def attempt(name_password: tuple[str, str]) -> int:
            start.wait()
            name, password = name_password
            return client.post("/login", data={"name": name, "password": password, "csrf": token},
                               follow_redirects=False).status_code

        with ThreadPoolExecutor(len(attempts)) as pool:
            return list(pool.map(attempt, attempts))


def test_a_burst_from_one_address_is_held_to_a_few_checks(seeded, app, monkeypatch):
    _limits(seeded, failures=100)
    codes = _burst(app, monkeypatch, [("rev1", f"wrong {i}") for i in range(20)])
    checked = codes.count(401)
    assert checked <= LoginThrottle.FREE_FAILURES + LoginThrottle.MAX_IN_FLIGHT - 1
    assert codes.count(429) == 20 - checked and _failed_logins(seeded, "rev1") == checked


def test_people_logging_in_together_from_one_address_are_not_refused(seeded, app, monkeypatch):
    names = ["rev1", "rev2", "rev3", "analyst", "officer", "admin"] * 2
    assert _burst(app, monkeypatch, [(name, PASSWORD) for name in names]) == [303] * len(names)


def test_an_attacker_on_one_address_gets_ever_fewer_tries():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    tries = 0
    for second in range(24 * 3600):                # one try a second for a day
        now[0] = float(second)
        if throttle.wait_s("203.0.113.5") == 0:
            throttle.failed("203.0.113.5")
            tries += 1
    assert tries <= LoginThrottle.FREE_FAILURES + 12 + 24   # the first few, doubling waits, then one an hour
    assert throttle.wait_s("198.51.100.7") == 0


def test_the_throttle_forgets_old_addresses_and_stays_bounded():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0], max_addresses=50)
    for i in range(200):
        for _ in range(LoginThrottle.FREE_FAILURES + 1):
            throttle.failed(f"10.0.0.{i}")
    assert len(throttle) == 50 and throttle.wait_s("10.0.0.199") > 0 and throttle.wait_s("10.0.0.0") == 0
    now[0] += LoginThrottle.FORGET_AFTER_S + 1
    assert len(throttle) == 0 and throttle.wait_s("10.0.0.199") == 0


@pytest.mark.parametrize("base_url, secure", [("https://testserver", True), ("http://127.0.0.1:8765", False)])
def test_cookies_are_secure_over_tls(seeded, app, base_url, secure):
    with _client(app, base_url=base_url) as client:
        page = client.get("/login")
        response = login(client, "rev1")
    assert response.status_code == 303
    cookies = page.headers.get_list("set-cookie") + response.headers.get_list("set-cookie")
    for name in ("svidok_login_csrf=", "svidok_session="):
        cookie = next(c for c in cookies if c.startswith(name)).lower()
        assert ("; secure" in cookie) is secure, cookie
