"""Request guards: who is logged in, whether their role allows the route, and CSRF.

Every endpoint is wrapped by `guard(permission)`. Anonymous users get 401 (or, for a page
request, a redirect to the login page); a logged-in user without the permission gets 403;
a state-changing request (POST) without the session's CSRF token — in the `csrf` form field
or the `X-CSRF-Token` header — gets 403 before the endpoint runs. The session is looked up in a
worker thread (review_ui/db.py), like every database call of a request.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from svidok.cases.roles import allowed
from svidok.cases.users import Session, session_for
from svidok.review_ui.db import run_db

SESSION_COOKIE = "svidok_session"
LOGIN_CSRF_COOKIE = "svidok_login_csrf"
Endpoint = Callable[[Request], Awaitable[Response]]


async def load_session(request: Request) -> Session | None:
    """The request's login session, looked up once (off the event loop) and kept on the request."""
    if "svidok_session" not in request.scope:
        token = request.cookies.get(SESSION_COOKIE)
        request.scope["svidok_session"] = await run_db(request, session_for, token) if token else None
    return request.scope["svidok_session"]


def current_session(request: Request) -> Session | None:
    """The session `load_session` found; None when it has not run (such a page shows no user)."""
    return request.scope.get("svidok_session")


def over_tls(request: Request) -> bool:
    """Served over HTTPS (uvicorn's own TLS, or a local proxy's X-Forwarded-Proto): cookies get `Secure`."""
    return request.url.scheme == "https"


def wants_json(request: Request) -> bool:
    return (request.query_params.get("format") == "json" or request.scope["path"].startswith("/api/")
            or "application/json" in request.headers.get("accept", ""))


def deny(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return PlainTextResponse(message, status_code=status)


async def csrf_ok(request: Request, expected: str) -> bool:
    token = request.headers.get("x-csrf-token")
    if token is None and "form" in request.headers.get("content-type", ""):
        token = (await request.form()).get("csrf")
    return isinstance(token, str) and hmac.compare_digest(token, expected)


def guard(permission: str) -> Callable[[Endpoint], Endpoint]:
    """Require a logged-in user whose role holds `permission` (and CSRF on POST)."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            session = await load_session(request)
            if session is None:
                if request.method == "GET" and not wants_json(request):
                    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
                return deny(request, 401, "log in first")
            if not allowed(session.user.role, permission):
                return deny(request, 403, "your role does not allow this")
            if request.method not in ("GET", "HEAD") and not await csrf_ok(request, session.csrf_token):
                return deny(request, 403, "missing or wrong CSRF token; reload the page")
            request.state.user = session.user
            request.state.csrf = session.csrf_token
            return await endpoint(request)

        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded

    return wrap
