"""Rendering: a page from a template extending base.html, or its JSON twin."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.templating import Jinja2Templates

from svidok.cases.roles import allowed
from svidok.review_ui.auth import current_session, wants_json
from svidok.review_ui.highlight import mark
from svidok.review_ui.i18n import LANGUAGES, pick_language, translations

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.auto_reload = False      # templates ship with the code: no stat() of each file on every page
TEMPLATES.env.filters["mark"] = mark
TEMPLATES.env.filters["fromjson"] = json.loads


@pass_context
def translate(context: Context, message: str) -> str:
    """`{{ value|translate }}` is `{{ _(value) }}` for a value repeated down a page (the queue's 100
    signal tags): a filter is called directly, a template function through Jinja's slower `call`."""
    return context["_"](message)


TEMPLATES.env.filters["translate"] = translate


def _context(request: Request) -> dict[str, Any]:
    session = current_session(request)
    user = session.user if session else None
    lang = user.lang if user else pick_language(request.headers.get("accept-language"))
    t = translations(lang)
    return {"user": user, "csrf": session.csrf_token if session else "", "lang": lang, "languages": LANGUAGES,
            "_": t.gettext, "ngettext": t.ngettext, "shield": user.shield if user else True,
            "can": (lambda perm: bool(user) and allowed(user.role, perm))}


def plain(value: Any) -> Any:
    """Dataclasses and tuples made JSON-ready."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def page(request: Request, template: str, context: dict[str, Any], data: Any = None, status: int = 200) -> Response:
    """Render `template` with `context`, or return `data` (default: the context) as JSON. `data` may be a
    function of no arguments, called only for a JSON request (building a JSON twin costs as much as the page)."""
    if wants_json(request):
        twin = data() if callable(data) else data
        return JSONResponse(plain(context if twin is None else twin), status_code=status)
    full = {**_context(request), **context}
    html = TEMPLATES.get_template(template).render({"request": request, **full})
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", {"message": message, "status": status}, {"error": message}, status)
