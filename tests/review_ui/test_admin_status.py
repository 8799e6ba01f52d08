"""The admin's work-status page: what `svidok status --json` prints, as a page and its JSON twin."""

from __future__ import annotations

import dataclasses

import pytest

from tests.workers.conftest import broker_url  # noqa: F401 - fixture: a Redis database of this test's own


def _with_broker(app, url: str) -> None:
    ws = app.state.ws
    ws.settings = dataclasses.replace(ws.settings, broker=dataclasses.replace(ws.settings.broker, url=url))


def test_admins_see_the_archive_counts_as_the_cli_does(seeded, client_for, run_json):
    admin = client_for("admin")
    twin = admin.get("/api/admin/status").json()
    cli = run_json("status")
    assert twin == {k: cli[k] for k in ("media", "analyzed", "analysis_failed", "analysis_pending", "sightings",
                                         "persons")}
    assert twin["media"] == 2 and twin["sightings"]["pending"] == 4
    page = admin.get("/admin/status").text
    assert '<td data-key="media">2</td>' in page and '<td data-key="pending">4</td>' in page
    assert 'id="queue-none"' in page and 'href="/admin/status"' in page
    assert admin.get("/admin/status?format=json").json() == twin


@pytest.mark.parametrize("who", ["analyst", "rev1", "officer"])
def test_only_admins(seeded, client_for, who):
    client = client_for(who)
    assert client.get("/admin/status").status_code == 403
    assert client.get("/api/admin/status").status_code == 403
    assert 'href="/admin/status"' not in client.get("/settings").text


def test_queue_depth_and_an_unreachable_broker(seeded, app, client_for, broker_url):  # noqa: F811
    import redis

    from svidok.pipeline.enqueue import enqueue_analysis
    from svidok.pipeline.tasks import make_app

    _with_broker(app, broker_url)
    sent = enqueue_analysis(seeded.ws, make_app(app.state.ws.settings.broker))
    assert sent.enqueued == 2
    admin = client_for("admin")
    queue = admin.get("/api/admin/status").json()["queue"]
    assert queue == {"broker": broker_url, "reachable": True, "depth": {"analyze": 2, "collect": 0, "match": 0},
                     "taken": 0, "workers": []}
    page = admin.get("/admin/status").text
    assert '<td data-key="analyze">2</td>' in page and 'id="queue-status"' in page
    admin.post("/settings", data={"csrf": admin.csrf, "lang": "uk", "shield": "on"})
    assert "Черга завдань" in admin.get("/admin/status").text

    _with_broker(app, "redis://127.0.0.1:1/0")                               # nothing listens there
    twin = admin.get("/api/admin/status").json()
    assert twin["media"] == 2 and twin["queue"]["reachable"] is False
    assert "broker unreachable" in twin["queue"]["error"]
    page = admin.get("/admin/status").text
    assert 'id="queue-error"' in page and "redis://127.0.0.1:1/0" in page
    assert redis.Redis.from_url(broker_url).llen("analyze") == 2
