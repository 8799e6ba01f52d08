"""The review UI application: routes, static files and security headers.

`create_app(ws)` serves one opened workspace. Endpoints are `async` and run on the event loop,
which never waits for the database: each request's queries run in a worker thread on a
connection of that thread's own (`app.state.db`, review_ui/db.py), and the audit entries of
page views are written by `app.state.audit_writer`'s thread (review_ui/audit_writer.py). The
served workspace's own connection (`app.state.ws.conn`) is not used by requests; its settings are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from svidok.cases.decisions import settle_open
from svidok.foundation.workspace import Workspace, connect
from svidok.review_ui.audit_writer import AuditWriter
from svidok.review_ui.db import WorkspacePool
from svidok.review_ui.throttle import LoginThrottle
from svidok.review_ui.views import account, admin, cases, files, review

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self';"
       " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def routes() -> list[Route | Mount]:
    """Every route; each endpoint carries the permission it checks (see cases/roles.py)."""
    return [
        Route("/", account.home),
        Route("/login", account.login_page, methods=["GET"]),
        Route("/login", account.login, methods=["POST"]),
        Route("/logout", account.logout, methods=["POST"]),
        Route("/settings", account.settings_page, methods=["GET"]),
        Route("/settings", account.settings_save, methods=["POST"]),
        Route("/queue", review.queue),
        Route("/api/queue", review.queue),
        Route("/sightings/{sid:int}", review.sighting),
        Route("/api/sightings/{sid:int}", review.sighting),
        Route("/sightings/{sid:int}/decision", review.decide, methods=["POST"]),
        Route("/api/sightings/{sid:int}/decision", review.decide, methods=["POST"]),
        Route("/sightings/{sid:int}/posts/{sha}/detach", review.detach, methods=["POST"]),
        Route("/api/sightings/{sid:int}/posts/{sha}/detach", review.detach, methods=["POST"]),
        Route("/reposts", review.reposts),
        Route("/api/reposts", review.reposts),
        Route("/admin/conflicts", admin.conflicts),
        Route("/admin/conflicts/{sid:int}", admin.resolve, methods=["POST"]),
        Route("/admin/audit", admin.audit),
        Route("/admin/status", admin.work_status),
        Route("/api/admin/status", admin.work_status),
        Route("/cases", cases.cases, methods=["GET"]),
        Route("/cases", cases.case_open, methods=["POST"]),
        Route("/cases/{cid:int}", cases.case),
        Route("/cases/{cid:int}/attach", cases.case_attach, methods=["POST"]),
        Route("/cases/{cid:int}/notes", cases.case_note, methods=["POST"]),
        Route("/cases/{cid:int}/export", cases.case_export, methods=["POST"]),
        Route("/cases/{cid:int}/packages/{name}", cases.case_package),
        Route("/media/{sha}", files.media),
        Route("/artifacts/{sha}", files.artifact),
        Route("/references/{rid:int}", files.reference),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


class SecurityHeaders:
    """Strict CSP (same origin only, no inline code) and `Cache-Control: no-store` on everything
    except the static CSS/JS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or static]
                headers += SECURITY_HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    app.state.audit_writer.close()
    app.state.db.close()


def create_app(ws: Workspace) -> Starlette:
    """The app serving `ws`; first, sightings the review rule settles with today's settings are settled
    (cases/decisions.py `settle_open`: nothing waits for ever on decisions that cannot give a result)."""
    settle_open(ws, "svidok review")
    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.ws = ws
    app.state.db = WorkspacePool(ws)
    app.state.audit_writer = AuditWriter(lambda: connect(ws.root, ws.settings))
    app.state.login_throttle = LoginThrottle()
    return app
