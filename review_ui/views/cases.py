"""Case pages: list and open cases, attach confirmed sightings, notes, timeline, export."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from svidok.cases.case import (
    CaseError,
    add_note,
    attach,
    attachable,
    case_sighting_ids,
    get_case,
    list_cases,
    open_case,
    timeline,
)
from svidok.cases.export import ExportError, export_case
from svidok.cases.recipients import RECIPIENTS, RecipientError
from svidok.foundation.workspace import Workspace
from svidok.review_ui.auth import guard, wants_json
from svidok.review_ui.db import run_db
from svidok.review_ui.render import error_page, page


def _cases_context(ws: Workspace) -> dict[str, Any]:
    without = ws.conn.execute('SELECT id, name FROM person WHERE id NOT IN (SELECT person_id FROM "case")'
                              " ORDER BY name").fetchall()
    return {"cases": list_cases(ws), "persons_without_case": without}


@guard("case.view")
async def cases(request: Request) -> Response:
    context = await run_db(request, _cases_context)
    return page(request, "cases.html", context, data={"cases": context["cases"]})


@guard("case.edit")
async def case_open(request: Request) -> Response:
    user = request.state.user
    form = await request.form()
    try:
        case_id, _created = await run_db(request, open_case, int(str(form.get("person", "0")) or 0), user.id,
                                         user.name)
    except (CaseError, ValueError) as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _case_context(ws: Workspace, cid: int) -> dict[str, Any]:
    return {"case": get_case(ws, cid), "timeline": timeline(ws, cid), "sightings": case_sighting_ids(ws, cid),
            "attachable": attachable(ws, cid), "recipients": RECIPIENTS}


@guard("case.view")
async def case(request: Request) -> Response:
    try:
        context = await run_db(request, _case_context, request.path_params["cid"])
    except CaseError as exc:
        return error_page(request, 404, str(exc))
    return page(request, "case.html", {**context, "export": request.query_params.get("exported")})


def _done(request: Request, cid: int, data: dict) -> Response:
    if wants_json(request):
        return JSONResponse(data)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@guard("case.edit")
async def case_attach(request: Request) -> Response:
    user = request.state.user
    cid, form = request.path_params["cid"], await request.form()
    try:
        await run_db(request, attach, cid, int(str(form.get("sighting", "0")) or 0), user.id, user.name)
    except (CaseError, ValueError) as exc:
        return error_page(request, 409, str(exc))
    return _done(request, cid, {"case": cid, "attached": int(str(form.get("sighting")))})


@guard("case.edit")
async def case_note(request: Request) -> Response:
    cid, form = request.path_params["cid"], await request.form()
    try:
        await run_db(request, add_note, cid, str(form.get("text", "")), request.state.user.name)
    except CaseError as exc:
        return error_page(request, 400, str(exc))
    return _done(request, cid, {"case": cid, "note": True})


def _export(ws: Workspace, cid: int, recipient: str, actor: str) -> dict[str, Any]:
    result = export_case(ws, cid, recipient, ws.root / "exports", actor)
    return {"bag": str(result.bag), "files": result.files, "recipient": result.recipient,
            "sightings": result.sightings, "references": result.references, "excluded": result.excluded,
            "valid": True}


@guard("case.export")
async def case_export(request: Request) -> Response:
    cid, form = request.path_params["cid"], await request.form()
    try:
        data = await run_db(request, _export, cid, str(form.get("recipient", "")), request.state.user.name)
    except (ExportError, CaseError, RecipientError) as exc:
        return error_page(request, 409, str(exc))
    if wants_json(request):
        return JSONResponse(data)
    return page(request, "exported.html", {"result": data, "case_id": cid})
