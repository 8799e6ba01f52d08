"""Stored files for logged-in users only: originals (with HTTP range requests for video),
derived artifacts (crops, frames) and consented reference photos. Never cached."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from svidok.foundation.workspace import Workspace
from svidok.review_ui.auth import guard
from svidok.review_ui.db import run_db
from svidok.review_ui.render import error_page

SHA = re.compile(r"^[0-9a-f]{64}$")
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"}
FILE_QUERIES = {
    "media": "SELECT path, mime FROM media WHERE sha256 = ?",
    "artifact": "SELECT path, mime FROM artifact WHERE sha256 = ?",
    "reference": "SELECT r.photo_path, NULL FROM reference r JOIN consent c ON c.id = r.consent_id"
                 " WHERE r.id = ? AND c.revoked_at IS NULL",
}


def _stored(ws: Workspace, kind: str, key: str | int) -> tuple[Path | None, str, str]:
    """In a worker thread: (path, mime, problem) of a stored file; path None when it cannot be sent."""
    row = ws.conn.execute(FILE_QUERIES[kind], (key,)).fetchone()
    if row is None:
        return None, "", "no such file"
    path = ws.path(row[0])
    if not path.is_file():
        return None, "", "file missing from the workspace"
    return path, row[1] or mimetypes.guess_type(row[0])[0] or "application/octet-stream", ""


async def _send(request: Request, kind: str, key: str | int) -> Response:
    path, mime, problem = await run_db(request, _stored, kind, key)
    if path is None:
        return error_page(request, 404, problem)
    return FileResponse(path, media_type=mime, headers=NO_STORE)


@guard("media.view")
async def media(request: Request) -> Response:
    sha = request.path_params["sha"]
    return await _send(request, "media", sha) if SHA.match(sha) else error_page(request, 404, "no such file")


@guard("media.view")
async def artifact(request: Request) -> Response:
    sha = request.path_params["sha"]
    return await _send(request, "artifact", sha) if SHA.match(sha) else error_page(request, 404, "no such file")


@guard("reference.view")
async def reference(request: Request) -> Response:
    return await _send(request, "reference", request.path_params["rid"])
