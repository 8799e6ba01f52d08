"""Case pages: list and open cases, attach confirmed sightings, notes, timeline, export."""

from __future__ import annotations

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
from svidok.review_ui.auth import guard, wants_json
from svidok.review_ui.render import error_page, page


@guard("case.view")
async def cases(request: Request) -> Response:
    ws = request.app.state.ws
    without = ws.conn.execute('SELECT id, name FROM person WHERE id NOT IN (SELECT person_id FROM "case")'
                              " ORDER BY name").fetchall()
    return page(request, "cases.html", {"cases": list_cases(ws), "persons_without_case": without},
                data={"cases": list_cases(ws)})


@guard("case.edit")
async def case_open(request: Request) -> Response:
    ws, user = request.app.state.ws, request.state.user
    form = await request.form()
    try:
        case_id, _created = open_case(ws, int(str(form.get("person", "0")) or 0), user.id, user.name)
    except (CaseError, ValueError) as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@guard("case.view")
async def case(request: Request) -> Response:
    ws = request.app.state.ws
    cid = request.path_params["cid"]
    try:
        summary = get_case(ws, cid)
        context = {"case": summary, "timeline": timeline(ws, cid), "sightings": case_sighting_ids(ws, cid),
                   "attachable": attachable(ws, cid), "recipients": RECIPIENTS,
                   "export": request.query_params.get("exported")}
    except CaseError as exc:
        return error_page(request, 404, str(exc))
    return page(request, "case.html", context)


def _done(request: Request, cid: int, data: dict) -> Response:
    if wants_json(request):
        return JSONResponse(data)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@guard("case.edit")
async def case_attach(request: Request) -> Response:
    ws, user = request.app.state.ws, request.state.user
    cid, form = request.path_params["cid"], await request.form()
    try:
        attach(ws, cid, int(str(form.get("sighting", "0")) or 0), user.id, user.name)
    except (CaseError, ValueError) as exc:
        return error_page(request, 409, str(exc))
    return _done(request, cid, {"case": cid, "attached": int(str(form.get("sighting")))})


@guard("case.edit")
async def case_note(request: Request) -> Response:
    ws, user = request.app.state.ws, request.state.user
    cid, form = request.path_params["cid"], await request.form()
    try:
        add_note(ws, cid, str(form.get("text", "")), user.name)
    except CaseError as exc:
        return error_page(request, 400, str(exc))
    return _done(request, cid, {"case": cid, "note": True})


@guard("case.export")
async def case_export(request: Request) -> Response:
    ws, user = request.app.state.ws, request.state.user
    cid, form = request.path_params["cid"], await request.form()
    try:
        result = export_case(ws, cid, str(form.get("recipient", "")), ws.root / "exports", user.name)
    except (ExportError, CaseError, RecipientError) as exc:
        return error_page(request, 409, str(exc))
    data = {"bag": str(result.bag), "files": result.files, "recipient": result.recipient,
            "sightings": result.sightings, "references": result.references, "excluded": result.excluded,
            "valid": True}
    if wants_json(request):
        return JSONResponse(data)
    return page(request, "exported.html", {"result": data, "case_id": cid})
