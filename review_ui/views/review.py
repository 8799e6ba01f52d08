"""The review queue, the comparison page of one sighting, and recording a decision."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from svidok.cases.decisions import (
    ASSESSMENTS,
    FEATURES,
    DecisionError,
    Outcome,
    decisions_for,
    has_decided,
    may_see_decisions,
    record_decision,
)
from svidok.cases.roles import allowed
from svidok.cases.sightings import QueueFilter, load_sighting, neighbours, pending_queue
from svidok.cases.users import User
from svidok.foundation.workspace import Workspace
from svidok.review_ui.auth import guard, wants_json
from svidok.review_ui.db import run_db
from svidok.review_ui.render import error_page, page, plain

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _queue_filter(request: Request) -> QueueFilter:
    q = request.query_params
    person = (q.get("person") or "").strip()
    return QueueFilter(person_id=_int(person), person_name=None if person.isdigit() else person or None,
                       source=q.get("source") or None,
                       date_from=q.get("from") or None, date_to=q.get("to") or None,
                       limit=PAGE_SIZE, offset=(_int(q.get("offset")) or 0))


@guard("queue.view")
async def queue(request: Request) -> Response:
    result = await run_db(request, pending_queue, request.state.user, _queue_filter(request))
    return page(request, "queue.html", {"queue": result, "done": _int(
        request.query_params.get("done"))}, data={"total": result.total, "more": result.more,
                                                    "sightings": result.rows})


def _sighting_context(ws: Workspace, sid: int, user: User) -> dict[str, Any] | None:
    """In a worker thread: a sighting's comparison material, and its decisions only if `user` may see them."""
    detail = load_sighting(ws, sid, with_references=allowed(user.role, "reference.view"))
    if detail is None:
        return None
    visible = may_see_decisions(ws, sid, detail.status, user)
    prev_id, next_id = neighbours(ws, user, sid, detail.score)
    can_decide = (allowed(user.role, "sighting.decide") and detail.status == "pending"
                  and not has_decided(ws, sid, user.id))
    return {"s": detail, "decisions": decisions_for(ws, sid) if visible else None, "decisions_hidden": not visible,
            "can_decide": can_decide, "prev_id": prev_id, "next_id": next_id,
            "features": FEATURES, "assessments": ASSESSMENTS}


@guard("sighting.view")
async def sighting(request: Request) -> Response:
    user, sid = request.state.user, request.path_params["sid"]
    context = await run_db(request, _sighting_context, sid, user)
    if context is None:
        return error_page(request, 404, f"no sighting {sid}")
    viewed = request.app.state.audit_writer.append(user.name, "sighting.view", f"sighting:{sid}",
                                                   {"json": wants_json(request)})
    response = page(request, "sighting.html", context, data=lambda: {
        **plain(context["s"]), "decisions": plain(context["decisions"]), "can_decide": context["can_decide"],
        "previous": context["prev_id"], "next": context["next_id"]})
    await viewed                      # the page goes out only once the view is on record
    return response


async def _decision_input(request: Request) -> dict[str, Any]:
    if "application/json" in request.headers.get("content-type", ""):
        body = await request.json()
        return {"verdict": body.get("verdict", ""), "checklist": body.get("checklist") or {},
                "observation": body.get("observation", "")}
    form = await request.form()
    checklist = {f: form.get(f"cl_{f}", "") for f in FEATURES}
    return {"verdict": str(form.get("verdict", "")), "checklist": checklist,
            "observation": str(form.get("observation", ""))}


def _decide(ws: Workspace, sid: int, user: User, given: dict[str, Any], want_next: bool
            ) -> tuple[Outcome, int | None]:
    """In a worker thread: record the decision; with `want_next`, the next sighting in the user's queue."""
    outcome = record_decision(ws, sid, user, given["verdict"], given["checklist"], given["observation"])
    if not want_next:
        return outcome, None
    score = ws.conn.execute("SELECT score FROM sighting WHERE id = ?", (sid,)).fetchone()[0]
    return outcome, neighbours(ws, user, sid, score)[1]


@guard("sighting.decide")
async def decide(request: Request) -> Response:
    sid = request.path_params["sid"]
    try:
        given = await _decision_input(request)
        outcome, next_id = await run_db(request, _decide, sid, request.state.user, given, not wants_json(request))
    except DecisionError as exc:
        return error_page(request, 404 if "no sighting" in str(exc) else 409, str(exc))
    except (TypeError, AttributeError, json.JSONDecodeError):
        return error_page(request, 400, "malformed decision")
    if wants_json(request):
        return JSONResponse({"decision_id": outcome.decision_id, "sighting": sid, "status": outcome.status})
    target = f"/sightings/{next_id}?done={sid}" if next_id else f"/queue?done={sid}"
    return RedirectResponse(target, status_code=303)
