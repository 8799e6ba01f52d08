"""Stored files for logged-in users only: originals (with HTTP range requests for video),
derived artifacts (crops, frames) and consented reference photos. Never cached."""

from __future__ import annotations

import mimetypes
import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from svidok.review_ui.auth import guard
from svidok.review_ui.render import error_page

SHA = re.compile(r"^[0-9a-f]{64}$")
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"}


def _send(request: Request, relpath: str | None, mime: str) -> Response:
    if relpath is None:
        return error_page(request, 404, "no such file")
    path = request.app.state.ws.path(relpath)
    if not path.is_file():
        return error_page(request, 404, "file missing from the workspace")
    return FileResponse(path, media_type=mime, headers=NO_STORE)


@guard("media.view")
async def media(request: Request) -> Response:
    sha = request.path_params["sha"]
    row = request.app.state.ws.conn.execute("SELECT path, mime FROM media WHERE sha256 = ?", (sha,)).fetchone() \
        if SHA.match(sha) else None
    return _send(request, row[0] if row else None, row[1] if row else "")


@guard("media.view")
async def artifact(request: Request) -> Response:
    sha = request.path_params["sha"]
    row = request.app.state.ws.conn.execute("SELECT path, mime FROM artifact WHERE sha256 = ?", (sha,)).fetchone() \
        if SHA.match(sha) else None
    return _send(request, row[0] if row else None, row[1] if row else "")


@guard("reference.view")
async def reference(request: Request) -> Response:
    row = request.app.state.ws.conn.execute(
        "SELECT r.photo_path FROM reference r JOIN consent c ON c.id = r.consent_id"
        " WHERE r.id = ? AND c.revoked_at IS NULL", (request.path_params["rid"],)).fetchone()
    if row is None:
        return _send(request, None, "")
    mime = mimetypes.guess_type(row[0])[0] or "application/octet-stream"
    return _send(request, row[0], mime)
