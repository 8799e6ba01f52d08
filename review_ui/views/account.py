"""Logging in and out, and a user's own display settings (language, trauma-aware display)."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from svidok.cases.roles import home_for
from svidok.cases.users import LoginResult, UserError, check_password, end_session, start_session, update_settings
from svidok.foundation.workspace import Workspace
from svidok.review_ui.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, guard, load_session, over_tls
from svidok.review_ui.db import run_db
from svidok.review_ui.render import error_page, page


async def home(request: Request) -> Response:
    session = await load_session(request)
    return RedirectResponse(home_for(session.user.role) if session else "/login", status_code=303)


def _safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: never redirect to another origin after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def login_page(request: Request, message: str = "", status: int = 200) -> Response:
    await load_session(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", {"login_csrf": token, "message": message,
                                            "next": request.query_params.get("next", "")}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=over_tls(request))
    return response


def _log_in(ws: Workspace, name: str, password: str) -> tuple[LoginResult, str]:
    """In a worker thread: check the password (slow on purpose) and start a session when it is right."""
    result = check_password(ws, name, password)
    return result, start_session(ws, result.user)[0] if result.user else ""


async def login(request: Request) -> Response:
    """Log in. Refused alike for a wrong name and a wrong password (401), and for a locked name or
    a client address that must wait (429); see cases/users.py and review_ui/throttle.py."""
    form = await request.form()
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not hmac.compare_digest(str(form.get("csrf", "")), cookie_token):
        return error_page(request, 403, "missing or wrong CSRF token; reload the login page")
    throttle, address = request.app.state.login_throttle, request.client.host if request.client else ""
    async with throttle.slot(address):
        wait = throttle.wait_s(address)
        if wait:
            return await _too_many(request, wait)
        result, token = await run_db(request, _log_in, str(form.get("name", "")), str(form.get("password", "")))
        if result.user is None:
            throttle.failed(address)
    if result.user is None:
        if result.locked_for_s:
            return await _too_many(request, result.locked_for_s)
        return await login_page(request, _gettext(request)("Wrong name or password."), 401)
    target = _safe_next(str(form.get("next", "")), home_for(result.user.role))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=over_tls(request),
                        max_age=request.app.state.ws.settings.review.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", secure=over_tls(request), httponly=True,
                           samesite="strict")
    return response


async def _too_many(request: Request, seconds: int) -> Response:
    message = _gettext(request)("Too many failed logins. Try again in %(s)d seconds.") % {"s": seconds}
    return await login_page(request, message, 429)


def _gettext(request: Request):  # noqa: ANN202 - gettext callable
    from svidok.review_ui.i18n import pick_language, translations

    return translations(pick_language(request.headers.get("accept-language"))).gettext


@guard("self")
async def logout(request: Request) -> Response:
    await run_db(request, end_session, request.cookies[SESSION_COOKIE], request.state.user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, secure=over_tls(request), httponly=True, samesite="strict")
    return response


@guard("self")
async def settings_page(request: Request) -> Response:
    user = request.state.user
    return page(request, "settings.html", {"settings": {"lang": user.lang, "shield": user.shield}})


@guard("self")
async def settings_save(request: Request) -> Response:
    form = await request.form()
    user = request.state.user
    try:
        await run_db(request, update_settings, user, {"lang": form.get("lang", user.lang),
                                                      "shield": form.get("shield") == "on"})
    except UserError as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse("/settings", status_code=303)
