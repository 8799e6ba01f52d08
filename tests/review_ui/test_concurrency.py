"""A writer elsewhere (an analysis run) holding the write turn (SQLite's write lock, PostgreSQL's
advisory lock) makes the UI's requests wait,
not fail, and never freezes the UI: the database work runs off the event loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from svidok.foundation.workspace import connect
from tests.conftest import serving
from tests.review_ui.conftest import CSRF, PASSWORD, evidence

HOLD_S = 2.5
PROMPT_S = 1.0          # far below HOLD_S: answered while the writer still holds the lock


def _logged_in(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    token = CSRF.search(client.get("/login").text).group(1)
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}).status_code == 303
    client.csrf = CSRF.search(client.get("/settings").text).group(1)
    return client


def _timed(results: dict, key: str, call: Callable[[], httpx.Response]) -> threading.Thread:
    def run() -> None:
        started = time.monotonic()
        results[key] = (call().status_code, time.monotonic() - started)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_requests_wait_for_a_writer_elsewhere_while_the_ui_stays_responsive(seeded, app):
    video, photo = seeded.sightings["video"], seeded.sightings["photo"]
    with serving(app) as url:
        rev1, rev2 = _logged_in(url, "rev1"), _logged_in(url, "rev2")
        anonymous = httpx.Client(base_url=url, timeout=5)
        writer = connect(seeded.ws.root, seeded.ws.settings)
        writer.begin()                                        # an analysis run writing
        held = time.monotonic()
        results: dict = {}
        threads = [
            _timed(results, "view", lambda: rev1.get(f"/sightings/{video}")),          # audits the view
            _timed(results, "decide", lambda: rev2.post(f"/api/sightings/{photo}/decision",
                                                        json={"verdict": "confirm", **evidence()},
                                                        headers={"X-CSRF-Token": rev2.csrf})),
            _timed(results, "queue", lambda: rev2.get("/api/queue")),                  # reads only
        ]
        time.sleep(0.3)
        prompt = {}
        for path in ("/static/app.css", "/login"):
            started = time.monotonic()
            assert anonymous.get(path).status_code == 200
            prompt[path] = time.monotonic() - started
        time.sleep(max(0.0, HOLD_S - (time.monotonic() - held)))
        writer.commit()
        for thread in threads:
            thread.join(30)
        writer.close()
        for client in (rev1, rev2, anonymous):
            client.close()
    assert all(s < PROMPT_S for s in prompt.values()), prompt
    assert {k: status for k, (status, _) in results.items()} == {"view": 200, "decide": 200, "queue": 200}
    assert results["view"][1] > HOLD_S * 0.6 and results["decide"][1] > HOLD_S * 0.6, results   # they waited
    assert results["queue"][1] < PROMPT_S, results                 # a read does not wait for the writer
