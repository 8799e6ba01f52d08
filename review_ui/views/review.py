"""The review queue, the comparison page of one sighting, and recording or amending a decision;
a post of the footage taken off a sighting ("not the same footage"); reposted family photos.

The rules a decision is held to live in cases/review_rules.py and are applied by cases/decisions.py,
so this view only reads the form or JSON body: `verdict`, `checklist` (JSON) or `cl_<feature>`
(form), `observation`, `revealed` (JSON true, form "1": the page's attestation that every
comparison image was un-blurred) and `amend` (JSON true, form "1": change one's own decision).
A decision missing what its verdict needs is refused with 422 and the list of what is missing.

The sighting page lists every post of its footage (cases/footage_posts.py: each capture's own URL,
channel, time and note, and how the post was linked); a reviewer may take an attached post off
with a reason (`detach`: matching/footage.py `detach_post`, audited). Where a family's reference
photo of the person was found reposted, the page shows it as a lead, never as a sighting, to those
who may see reference photos; `/reposts` lists every such lead."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from svidok.cases.decisions import (
    ASSESSMENTS,
    FEATURES,
    DecisionError,
    DecisionInput,
    IncompleteDecision,
    Outcome,
    decisions_for,
    may_see_decisions,
    own_decision,
    submit_decision,
)
from svidok.cases.footage_posts import footage_posts, repost_leads
from svidok.cases.roles import allowed
from svidok.cases.sightings import QueueFilter, load_sighting, neighbours, pending_queue, queue_summary
from svidok.cases.users import User
from svidok.foundation.workspace import Workspace
from svidok.matching.footage import detach_post
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
                       date_from=q.get("from") or None, date_to=q.get("to") or None, mine=q.get("mine") == "1",
                       limit=PAGE_SIZE, offset=(_int(q.get("offset")) or 0))


def _queue_context(ws: Workspace, user: User, f: QueueFilter) -> dict[str, Any]:
    """In a worker thread: a page of the user's queue, and how many sightings wait on whom."""
    return {"queue": pending_queue(ws, user, f), "summary": queue_summary(ws, user)}


@guard("queue.view")
async def queue(request: Request) -> Response:
    context = await run_db(request, _queue_context, request.state.user, _queue_filter(request))
    result = context["queue"]
    return page(request, "queue.html", {**context, "done": _int(request.query_params.get("done"))},
                data={"total": result.total, "more": result.more, "sightings": result.rows,
                      "summary": context["summary"]})


def _sighting_context(ws: Workspace, sid: int, user: User) -> dict[str, Any] | None:
    """In a worker thread: a sighting's comparison material, and its decisions only if `user` may see them."""
    detail = load_sighting(ws, sid, with_references=allowed(user.role, "reference.view"))
    if detail is None:
        return None
    visible = may_see_decisions(detail.status)
    prev_id, next_id = neighbours(ws, user, sid, detail.score)
    deciding = allowed(user.role, "sighting.decide") and detail.status == "pending"
    own = own_decision(ws, sid, user) if allowed(user.role, "sighting.decide") else None
    leads = repost_leads(ws, detail.person["id"]) if allowed(user.role, "reference.view") else []
    return {"s": detail, "decisions": decisions_for(ws, sid) if visible else None, "decisions_hidden": not visible,
            "own": own, "can_decide": deciding and own is None, "can_amend": deciding and own is not None,
            "prev_id": prev_id, "next_id": next_id, "features": FEATURES, "assessments": ASSESSMENTS,
            "posts": footage_posts(ws, sid), "reposts": leads,
            "can_detach": allowed(user.role, "sighting.decide")}


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
        "own_decision": plain(context["own"]), "can_amend": context["can_amend"],
        "previous": context["prev_id"], "next": context["next_id"], "posts": plain(context["posts"]),
        "reposts": plain(context["reposts"])})
    await viewed                      # the page goes out only once the view is on record
    return response


async def _decision_input(request: Request) -> tuple[DecisionInput, bool]:
    """(the decision given, whether it amends the user's own) from a JSON body or the review form."""
    if "application/json" in request.headers.get("content-type", ""):
        body = await request.json()
        return DecisionInput(str(body.get("verdict", "")), dict(body.get("checklist") or {}),
                             str(body.get("observation") or ""), body.get("revealed") is True), \
            body.get("amend") is True
    form = await request.form()
    checklist = {f: str(form.get(f"cl_{f}", "")) for f in FEATURES}
    return DecisionInput(str(form.get("verdict", "")), checklist, str(form.get("observation", "")),
                         form.get("revealed") == "1"), form.get("amend") == "1"


def _decide(ws: Workspace, sid: int, user: User, given: DecisionInput, amend: bool, want_next: bool
            ) -> tuple[Outcome, int | None]:
    """In a worker thread: record the decision; with `want_next`, the next sighting in the user's queue."""
    outcome = submit_decision(ws, sid, user, given, amend)
    if not want_next:
        return outcome, None
    score = ws.conn.execute("SELECT score FROM sighting WHERE id = ?", (sid,)).fetchone()[0]
    return outcome, neighbours(ws, user, sid, score)[1]


def _incomplete(request: Request, sid: int, exc: IncompleteDecision) -> Response:
    if wants_json(request):
        return JSONResponse({"error": str(exc), "missing": exc.missing}, status_code=422)
    return page(request, "error.html", {"message": str(exc), "status": 422, "missing": exc.missing,
                                        "back": f"/sightings/{sid}"}, status=422)


@guard("sighting.decide")
async def decide(request: Request) -> Response:
    sid = request.path_params["sid"]
    try:
        given, amend = await _decision_input(request)
        outcome, next_id = await run_db(request, _decide, sid, request.state.user, given, amend,
                                        not wants_json(request) and not amend)
    except IncompleteDecision as exc:
        return _incomplete(request, sid, exc)
    except DecisionError as exc:
        return error_page(request, 404 if "no sighting" in str(exc) else 409, str(exc))
    except (TypeError, ValueError, AttributeError, json.JSONDecodeError):
        return error_page(request, 400, "malformed decision")
    if wants_json(request):
        return JSONResponse({"decision_id": outcome.decision_id, "sighting": sid, "status": outcome.status,
                             **({"reason": outcome.reason} if outcome.reason else {})})
    if amend:
        return RedirectResponse(f"/sightings/{sid}?done={sid}", status_code=303)
    target = f"/sightings/{next_id}?done={sid}" if next_id else f"/queue?done={sid}"
    return RedirectResponse(target, status_code=303)


@guard("sighting.decide")
async def detach(request: Request) -> Response:
    """A reviewer says an attached post is not the same footage: a reason is required."""
    sid, media = request.path_params["sid"], request.path_params["sha"]
    if "application/json" in request.headers.get("content-type", ""):
        try:
            reason = str((await request.json()).get("reason") or "").strip()
        except (ValueError, AttributeError):
            return error_page(request, 400, "malformed request")
    else:
        reason = str((await request.form()).get("reason", "")).strip()
    if not reason:
        return error_page(request, 422, "say why this post is not the same footage")
    if not await run_db(request, detach_post, sid, media, request.state.user.name, reason):
        return error_page(request, 404, f"no post {media} attached to sighting {sid}")
    if wants_json(request):
        return JSONResponse({"sighting": sid, "detached": media})
    return RedirectResponse(f"/sightings/{sid}?detached={media}", status_code=303)


@guard("reference.view")
async def reposts(request: Request) -> Response:
    """Every place a family's reference photo was found reposted (`?person=ID`: one person's)."""
    person = _int(request.query_params.get("person"))
    leads = await run_db(request, repost_leads, person)
    viewed = request.app.state.audit_writer.append(request.state.user.name, "reposts.view",
                                                   f"person:{person}" if person else "", {"json": wants_json(request)})
    response = page(request, "reposts.html", {"reposts": leads, "person": person},
                    data={"person": person, "reposts": leads})
    await viewed
    return response
