"""Admin pages: the conflicts list and its resolution, and the audit log with its verify result."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from svidok.cases.decisions import DecisionError, decisions_for, resolve_conflict
from svidok.review_ui.auth import guard, wants_json
from svidok.review_ui.render import error_page, page


@guard("admin")
async def conflicts(request: Request) -> Response:
    ws = request.app.state.ws
    rows = ws.conn.execute("SELECT s.id, p.name, s.score, s.updated_at FROM sighting s JOIN person p"
                           " ON p.id = s.person_id WHERE s.status = 'conflict' ORDER BY s.updated_at").fetchall()
    items = [{"id": r[0], "person": r[1], "score": r[2], "since": r[3], "decisions": decisions_for(ws, r[0])}
             for r in rows]
    return page(request, "conflicts.html", {"conflicts": items})


@guard("admin")
async def resolve(request: Request) -> Response:
    ws = request.app.state.ws
    form = await request.form()
    sid = request.path_params["sid"]
    try:
        status = resolve_conflict(ws, sid, request.state.user, str(form.get("verdict", "")),
                                  str(form.get("reason", "")))
    except DecisionError as exc:
        return error_page(request, 409, str(exc))
    if wants_json(request):
        return JSONResponse({"sighting": sid, "status": status})
    return RedirectResponse("/admin/conflicts", status_code=303)


@guard("admin")
async def audit(request: Request) -> Response:
    ws = request.app.state.ws
    offset = int(request.query_params.get("offset", "0") or 0)
    report = ws.audit.verify()
    entries = ws.audit.entries(limit=200, offset=max(offset, 0))
    verify = {"ok": report.ok, "entries": report.entries, "tip": report.tip,
              "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems]}
    return page(request, "audit.html", {"verify": verify, "entries": entries, "offset": offset})
