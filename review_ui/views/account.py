"""Logging in and out, and a user's own display settings (language, trauma-aware display)."""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from svidok.cases.roles import home_for
from svidok.cases.users import (
    UserError,
    begin_login,
    end_session,
    finish_login,
    start_session,
    update_settings,
    verify_password,
)
from svidok.review_ui.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, current_session, guard
from svidok.review_ui.render import error_page, page


async def home(request: Request) -> Response:
    session = current_session(request)
    return RedirectResponse(home_for(session.user.role) if session else "/login", status_code=303)


def _safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: never redirect to another origin after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def login_page(request: Request, message: str = "", status: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", {"login_csrf": token, "message": message,
                                            "next": request.query_params.get("next", "")}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not hmac.compare_digest(str(form.get("csrf", "")), cookie_token):
        return error_page(request, 403, "missing or wrong CSRF token; reload the login page")
    ws = request.app.state.ws
    attempt = begin_login(ws, str(form.get("name", "")))
    ok = attempt.refused is None and await run_in_threadpool(verify_password, attempt.password_hash,
                                                             str(form.get("password", "")))
    result = finish_login(ws, attempt, ok)
    if result.user is None:
        _ = _gettext(request)
        if result.locked_for_s:
            return await login_page(request, _("Too many failed logins. Try again in %(s)d seconds.")
                                    % {"s": result.locked_for_s}, 429)
        return await login_page(request, _("Wrong name or password."), 401)
    token, _csrf = start_session(ws, result.user)
    target = _safe_next(str(form.get("next", "")), home_for(result.user.role))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        max_age=ws.settings.review.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _gettext(request: Request):  # noqa: ANN202 - gettext callable
    from svidok.review_ui.i18n import pick_language, translations

    return translations(pick_language(request.headers.get("accept-language"))).gettext


@guard("self")
async def logout(request: Request) -> Response:
    end_session(request.app.state.ws, request.cookies[SESSION_COOKIE], request.state.user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@guard("self")
async def settings_page(request: Request) -> Response:
    user = request.state.user
    return page(request, "settings.html", {"settings": {"lang": user.lang, "shield": user.shield}})


@guard("self")
async def settings_save(request: Request) -> Response:
    form = await request.form()
    try:
        update_settings(request.app.state.ws, request.state.user,
                        {"lang": form.get("lang", request.state.user.lang), "shield": form.get("shield") == "on"})
    except UserError as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse("/settings", status_code=303)
