"""Who may reach what: the route x role matrix, CSRF, lockout, cookies, no-store, range
requests, and that no page references another origin."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urljoin, urlparse

import pytest

from svidok.cases.case import open_case
from tests.review_ui.conftest import PASSWORD, evidence, login

A, R, C, AD = "analyst", "rev1", "officer", "admin"
EVERYONE = {A, R, C, AD}

# (method, path template, form data, users allowed). Written out by hand on purpose: it is the
# specification the permission table in cases/roles.py must meet.
MATRIX = [
    ("GET", "/queue", None, {A, R, AD}),
    ("GET", "/api/queue", None, {A, R, AD}),
    ("GET", "/sightings/{video}", None, EVERYONE),
    ("GET", "/api/sightings/{video}", None, EVERYONE),
    ("POST", "/sightings/{low}/decision", {"verdict": "unsure"}, {R, AD}),
    ("POST", "/api/sightings/{photo}/decision", {"verdict": "unsure"}, {R, AD}),
    ("GET", "/admin/conflicts", None, {AD}),
    ("POST", "/admin/conflicts/{video}", {"verdict": "confirm", "reason": "x"}, {AD}),
    ("GET", "/admin/audit", None, {AD}),
    ("GET", "/cases", None, {C, AD}),
    ("POST", "/cases", {"person": "{other_person}"}, {C}),
    ("GET", "/cases/{case}", None, {C, AD}),
    ("POST", "/cases/{case}/attach", {"sighting": "{video}"}, {C}),
    ("POST", "/cases/{case}/notes", {"text": "called the family"}, {C}),
    ("POST", "/cases/{case}/export", {"recipient": "icrc"}, {C}),
    ("GET", "/media/{video_sha}", None, EVERYONE),
    ("GET", "/artifacts/{crop_sha}", None, EVERYONE),
    ("GET", "/references/{reference}", None, {R, C, AD}),
    ("GET", "/settings", None, EVERYONE),
    ("POST", "/settings", {"lang": "en", "shield": "on"}, EVERYONE),
    ("POST", "/logout", {}, EVERYONE),       # last: it ends the session
]


def _values(seeded) -> dict[str, str]:
    case_id, _ = open_case(seeded.ws, seeded.person, None, "test")
    crop = seeded.ws.conn.execute("SELECT crop_sha256 FROM face LIMIT 1").fetchone()[0]
    return {"video": seeded.sightings["video"], "low": seeded.sightings["low"], "photo": seeded.sightings["photo"],
            "other_person": seeded.other_person, "case": case_id, "video_sha": seeded.video_sha, "crop_sha": crop,
            "reference": seeded.references["share"]}


@pytest.mark.parametrize("who", [None, A, R, C, AD])
def test_route_role_matrix(seeded, client_for, who):
    values = _values(seeded)
    client = client_for(who)
    for method, template, form, allowed in MATRIX:
        path = template.format(**values)
        if method == "GET":
            response = client.get(path, follow_redirects=False)
        else:
            data = {k: str(v).format(**values) for k, v in (form or {}).items()}
            if who is not None:
                data["csrf"] = client.csrf
            response = client.post(path, data=data, follow_redirects=False)
        where = f"{who or 'anonymous'} {method} {path}"
        if who is None:
            if method == "GET" and not path.startswith("/api/"):
                assert response.status_code == 303 and response.headers["location"].startswith("/login"), where
            else:
                assert response.status_code == 401, where
        elif who in allowed:
            assert response.status_code not in (401, 403), f"{where}: {response.status_code} {response.text[:200]}"
            assert response.status_code < 500, where
        else:
            assert response.status_code == 403, f"{where}: {response.status_code}"
        assert response.headers["cache-control"] == "no-store", where


def test_post_without_or_with_wrong_csrf_is_refused(seeded, client_for):
    client = client_for(R)
    sid = seeded.sightings["video"]
    assert client.post(f"/sightings/{sid}/decision", data={"verdict": "confirm"}).status_code == 403
    assert client.post(f"/sightings/{sid}/decision", data={"verdict": "confirm", "csrf": "forged"}).status_code == 403
    assert seeded.ws.conn.execute("SELECT COUNT(*) FROM decision").fetchone()[0] == 0
    ok = client.post(f"/api/sightings/{sid}/decision", json={"verdict": "confirm", **evidence()},
                     headers={"X-CSRF-Token": client.csrf})
    assert ok.status_code == 200 and ok.json()["status"] == "pending"


def test_login_form_needs_its_csrf_cookie(seeded, client_for):
    client = client_for(None)
    response = client.post("/login", data={"name": R, "password": PASSWORD, "csrf": "guess"}, follow_redirects=False)
    assert response.status_code == 403 and "svidok_session" not in response.cookies


def test_session_cookie_is_httponly_samesite_strict_and_hashed(seeded, client_for):
    client = client_for(None)
    response = login(client, R)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("svidok_session="))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = seeded.ws.conn.execute("SELECT token_hash FROM login_session").fetchall()
    assert len(stored) == 1 and token not in stored[0][0] and len(stored[0][0]) == 64


def test_wrong_password_then_lockout_then_back_off_expires(seeded, client_for):
    ws = seeded.ws
    ws.settings = dataclasses.replace(ws.settings, review=dataclasses.replace(
        ws.settings.review, login_max_failures=3, lockout_seconds=60))
    client = client_for(None)
    assert login(client, R, "wrong password 1").status_code == 401
    assert login(client, R, "wrong password 2").status_code == 401
    locked = login(client, R, "wrong password 3")
    assert locked.status_code == 429 and ("Try again" in locked.text or "Спробуйте" in locked.text)
    refused = login(client, R)                      # right password, but locked
    assert refused.status_code == 429 and "svidok_session" not in refused.cookies
    ws.conn.execute("UPDATE app_user SET locked_until = '2000-01-01T00:00:00+00:00' WHERE name = ?", (R,))
    assert login(client, R).status_code == 303
    actions = [e["action"] for e in ws.audit.entries()]
    assert actions.count("login.failed") == 3 and "login" in actions


def test_unknown_user_is_refused_like_a_wrong_password(seeded, client_for):
    assert login(client_for(None), "nobody", PASSWORD).status_code == 401


def test_logout_ends_the_session_server_side(seeded, client_for):
    client = client_for(R)
    cookie = client.cookies.get("svidok_session")
    assert client.post("/logout", data={"csrf": client.csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("svidok_session", cookie)    # a stolen copy of the cookie no longer works
    assert client.get("/api/queue").status_code == 401


def test_video_is_served_with_range_requests_and_no_store(seeded, client_for):
    client = client_for(R)
    full = client.get(f"/media/{seeded.video_sha}")
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4" and full.headers["cache-control"] == "no-store"
    part = client.get(f"/media/{seeded.video_sha}", headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == full.content[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(full.content)}"
    assert part.headers["cache-control"] == "no-store"
    assert client.get(f"/media/{'0' * 64}").status_code == 404
    assert client.get("/media/..%2Fsvidok.db").status_code == 404


def test_revoked_consent_hides_the_reference_photo(seeded, client_for):
    client = client_for(R)
    rid = seeded.references["share"]
    assert client.get(f"/references/{rid}").status_code == 200
    seeded.ws.conn.execute("UPDATE consent SET revoked_at = '2024-05-01' WHERE id = "
                           "(SELECT consent_id FROM reference WHERE id = ?)", (rid,))
    assert client.get(f"/references/{rid}").status_code == 404


URL_ATTR = re.compile(r'\b(?:src|href|action|poster|srcset|formaction|data)\s*=\s*"([^"]*)"', re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)


def _foreign(urls: list[str]) -> list[str]:
    bad = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme or parsed.netloc or url.startswith("//"):
            bad.append(url)
    return bad


def test_no_page_references_another_origin(seeded, client_for):
    values = _values(seeded)
    seen, problems = set(), []
    for who in (None, R, C, AD, A):
        client = client_for(who)
        todo = ["/", "/login", f"/sightings/{values['video']}", f"/cases/{values['case']}", "/nope"]
        while todo:
            path = todo.pop()
            if (who, path) in seen or len(seen) > 200:
                continue
            seen.add((who, path))
            response = client.get(path)
            body = response.text if "text/" in response.headers.get("content-type", "") else ""
            urls = URL_ATTR.findall(body) + CSS_URL.findall(body) + re.findall(r"@import\s+['\"]([^'\"]+)", body)
            problems += [f"{path}: {u}" for u in _foreign(urls)]
            todo += [urljoin(path, u).split("#")[0] for u in URL_ATTR.findall(body)
                     if not _foreign([u]) and "logout" not in u and not u.startswith(("/media/", "/artifacts/"))]
    assert len(seen) > 25
    assert problems == []
    for path in ("/static/app.css", "/static/app.js"):
        text = client_for(None).get(path).text
        assert _foreign(CSS_URL.findall(text)) == [] and "http" not in text


def test_serve_refuses_non_loopback_without_allow_remote(run_cli):
    run_cli("init")
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert result.exit_code == 1 and "refusing to bind 0.0.0.0" in result.output
