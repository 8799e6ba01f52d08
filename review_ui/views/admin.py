"""Admin pages: the conflicts list and its resolution, and the audit log with its verify result.

What an admin sees. An admin may decide on pending sightings like any reviewer, so an admin is
blind like any reviewer (cases/decisions.py, `may_see_decisions`): no other decision on a
pending sighting reaches them, before their own nor after it (a decision may still be amended
while the sighting is pending), on the sighting page nor in the audit log, whose
`decision.record` and `decision.amend` details are withheld here for exactly those sightings,
but for the admin's own (the chain is verified over the full entries all the same).

Resolving a conflict is also a decision, but a different one: a sighting gets to `conflict`
only once the blind phase is over (reviewers decided independently and disagreed, or the
reviews due gave no result, e.g. two "unsure": cases/review_rules.py `settle`; it takes no more
reviewer decisions), and the admin's task is to arbitrate. So the conflicts page shows each
conflict's reason and its decisions in full (reviewer, verdict, checklist, observation): the
admin checks each side's stated reasons against the material and records a reason of their own.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from svidok.cases.decisions import DecisionError, hidden_from, open_conflicts, resolve_conflict
from svidok.cases.users import User
from svidok.foundation.workspace import Workspace
from svidok.review_ui.auth import guard, wants_json
from svidok.review_ui.db import run_db
from svidok.review_ui.render import error_page, page

HIDDEN = {"hidden": "until you decide on this sighting (blind review)"}


@guard("admin")
async def conflicts(request: Request) -> Response:
    return page(request, "conflicts.html", {"conflicts": await run_db(request, open_conflicts)})


@guard("admin")
async def resolve(request: Request) -> Response:
    form = await request.form()
    sid = request.path_params["sid"]
    try:
        status = await run_db(request, resolve_conflict, sid, request.state.user, str(form.get("verdict", "")),
                              str(form.get("reason", "")))
    except DecisionError as exc:
        return error_page(request, 409, str(exc))
    if wants_json(request):
        return JSONResponse({"sighting": sid, "status": status})
    return RedirectResponse("/admin/conflicts", status_code=303)


def _decided_sighting(entry: dict[str, Any]) -> int | None:
    """The sighting a reviewer's decision entry is about (`decision.record`, `decision.amend`), else None."""
    if entry["action"] == "decision.amend":
        sid = (entry["details"] or {}).get("sighting")
        return sid if isinstance(sid, int) else None
    kind, _, number = entry["object"].partition(":")
    return int(number) if entry["action"] == "decision.record" and kind == "sighting" and number.isdigit() else None


def _audit_context(ws: Workspace, user: User, offset: int) -> dict[str, Any]:
    """In a worker thread: verify the chain and read a page of entries, blind where `user` must be."""
    report = ws.audit.verify()
    entries = ws.audit.entries(limit=200, offset=offset)
    hidden = hidden_from(ws, {sid for e in entries if (sid := _decided_sighting(e)) is not None})
    for entry in entries:
        if _decided_sighting(entry) in hidden and entry["actor"] != user.name:
            entry["details"] = HIDDEN
    verify = {"ok": report.ok, "entries": report.entries, "tip": report.tip,
              "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems]}
    return {"verify": verify, "entries": entries, "offset": offset}


@guard("admin")
async def audit(request: Request) -> Response:
    given = request.query_params.get("offset", "")
    offset = int(given) if given.isdigit() else 0
    return page(request, "audit.html", await run_db(request, _audit_context, request.state.user, offset))


def _status_context(ws: Workspace) -> dict[str, Any]:
    """In a worker thread: the archive's counts (as `svidok status`) and, with a broker, the queue."""
    from svidok.pipeline.work_status import archive_status

    context: dict[str, Any] = {"status": archive_status(ws), "queue": None}
    if ws.settings.broker.url:
        from svidok.pipeline.queue_status import queue_status

        context["queue"] = queue_status(ws.settings.broker).as_dict()
    return context


@guard("admin")
async def work_status(request: Request) -> Response:
    """The archive and the work at a glance: what `svidok status --json` prints, and its JSON twin."""
    context = await run_db(request, _status_context)
    twin = {**context["status"], **({"queue": context["queue"]} if context["queue"] is not None else {})}
    return page(request, "work_status.html", context, twin)
