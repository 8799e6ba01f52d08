"""Case pages: list and open cases, attach confirmed sightings, notes, timeline, export.

Export: the case page shows every consent of the case's person with its scopes and offers only
the recipients an active consent allows (cases/recipients.py); the server refuses any other
(cases/export.py). The package just built is checked as a recipient would check it
(cases/package_verify.py, against this workspace's key and audit chain) and the result page shows
that check, the package's SHA-256, the signing key's SHA-256, whether it carries an RFC 3161
timestamp, and the link to download the .zip. A download is served only for a package the audit
log records as exported from this case, while a consent still allows its recipient, and is audited.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from svidok.cases.case import (
    CaseError,
    add_note,
    attach,
    attachable,
    case_person,
    case_sighting_ids,
    get_case,
    list_cases,
    open_case,
    timeline,
)
from svidok.cases.export import ExportError, active_scopes, export_case
from svidok.cases.package_verify import VerifyOptions, verify_package
from svidok.cases.recipients import RECIPIENTS, RecipientError
from svidok.cases.timestamp import TimestampError, load_roots
from svidok.foundation.store import sha256_file
from svidok.foundation.workspace import Workspace
from svidok.matching.persons import consents_of
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


PACKAGE = re.compile(r"^case-(\d+)-[a-z-]+-\d{8}T\d{6}Z\.zip$")


def _case_context(ws: Workspace, cid: int) -> dict[str, Any]:
    case = get_case(ws, cid)
    scopes = active_scopes(ws, case.person_id)
    return {"case": case, "timeline": timeline(ws, cid), "sightings": case_sighting_ids(ws, cid),
            "attachable": attachable(ws, cid), "consents": consents_of(ws, case.person_id),
            "recipients": {k: r for k, r in RECIPIENTS.items() if r.scope in scopes},
            "refused_recipients": {k: r for k, r in RECIPIENTS.items() if r.scope not in scopes}}


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
    package = result.package
    assert package is not None
    ca = ws.settings.export.tsa_ca_file
    report = verify_package(package, VerifyOptions(workspace=ws, tsa_roots=load_roots(ca) if ca else []))
    return {"bag": str(result.bag), "files": result.files, "recipient": result.recipient,
            "sightings": result.sightings, "references": result.references, "excluded": result.excluded,
            "package": package.name, "download": f"/cases/{cid}/packages/{package.name}",
            "package_sha256": sha256_file(package), "signing_key_sha256": result.signing_key_sha256,
            "timestamped": result.timestamp is not None, "timestamp": result.timestamp,
            "verify": {"ok": report.ok, "problems": report.problems, "warnings": report.warnings},
            "valid": report.ok}


@guard("case.export")
async def case_export(request: Request) -> Response:
    cid, form = request.path_params["cid"], await request.form()
    try:
        data = await run_db(request, _export, cid, str(form.get("recipient", "")), request.state.user.name)
    except (ExportError, CaseError, RecipientError, TimestampError) as exc:
        return error_page(request, 409, str(exc))
    if wants_json(request):
        return JSONResponse(data)
    return page(request, "exported.html", {"result": data, "case_id": cid})


def _package(ws: Workspace, cid: int, name: str) -> tuple[Any, str]:
    """(path, "") of a package this case's audited export wrote, or (None, why it cannot be sent)."""
    match = PACKAGE.match(name)
    path = ws.root / "exports" / name
    if match is None or int(match.group(1)) != cid or not path.is_file():
        return None, "no such package"
    scope = None
    for (details,) in ws.conn.execute("SELECT details FROM audit WHERE action = 'case.export' AND object = ?",
                                      (f"case:{cid}",)):
        recorded = json.loads(details)
        if str(recorded.get("package", "")).rsplit("/", 1)[-1] == name:
            scope = recorded.get("scope")
    if scope is None:
        return None, "no such package"
    if scope not in active_scopes(ws, case_person(ws, cid)):
        return None, f"no active consent grants {scope!r} any more: the package may not be handed over"
    return path, ""


@guard("case.export")
async def case_package(request: Request) -> Response:
    cid, name = request.path_params["cid"], request.path_params["name"]
    try:
        path, problem = await run_db(request, _package, cid, name)
    except CaseError as exc:
        return error_page(request, 404, str(exc))
    if path is None:
        return error_page(request, 404 if problem == "no such package" else 409, problem)
    await request.app.state.audit_writer.append(request.state.user.name, "case.package.download", f"case:{cid}",
                                                {"package": name})
    return FileResponse(path, media_type="application/zip", headers={
        "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"'})
