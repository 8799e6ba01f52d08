"""Many people on one archive at once: an analysis run over dozens of files and `svidok match` runs
go on while reviewers work in the UI over loopback HTTP. On either backend: no 5xx, no "database
is locked", every decision that was answered as recorded is in the database exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter

import httpx
import pytest

from tests.conftest import REPO, serving
from tests.review_ui.conftest import CSRF, PASSWORD, add_sighting, evidence, jpeg_bytes

pytestmark = pytest.mark.models

MEDIA_FILES = 30
EXTRA_SIGHTINGS = 12


def _logged_in(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    token = CSRF.search(client.get("/login").text).group(1)
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}).status_code == 303
    client.csrf = CSRF.search(client.get("/settings").text).group(1)
    return client


def _svidok(ws_root, *args: str) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "SVIDOK_WORKSPACE": str(ws_root)}
    return subprocess.Popen([sys.executable, "-m", "svidok.cli", *args, "--json"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_analysis_matching_and_reviewers_at_once(seeded, app, tmp_path):
    ws = seeded.ws
    sightings = [add_sighting(ws, seeded.person, seeded.photo_sha, None, 0.6, f"load-{i}") for i in range(EXTRA_SIGHTINGS)]
    sightings += [seeded.sightings["photo"], seeded.sightings["other"]]
    folder = tmp_path / "incoming"
    folder.mkdir()
    for i in range(MEDIA_FILES):
        (folder / f"frame-{i}.jpg").write_bytes(jpeg_bytes(1000 + i, (160, 120)))
    ingest = _svidok(ws.root, "ingest", "files", str(folder))
    assert ingest.wait(120) == 0, ingest.stderr.read()

    statuses: Counter[int] = Counter()
    recorded: list[tuple[int, str]] = []
    failures: list[str] = []

    def review(url: str, name: str) -> None:
        client = _logged_in(url, name)
        try:
            for sid in sightings:
                for response in (client.get("/api/queue"), client.get(f"/sightings/{sid}")):
                    statuses[response.status_code] += 1
                verdict = "confirm" if sid % 2 else "reject"
                answer = client.post(f"/api/sightings/{sid}/decision", json={"verdict": verdict, **evidence()},
                                     headers={"X-CSRF-Token": client.csrf})
                statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    recorded.append((sid, name))
                else:
                    failures.append(f"{name} on {sid}: {answer.status_code} {answer.text[:200]}")
        finally:
            client.close()

    with serving(app) as url:
        analysis = _svidok(ws.root, "analyze")
        matches = [_svidok(ws.root, "match")]
        reviewers = [threading.Thread(target=review, args=(url, name)) for name in ("rev1", "rev2")]
        for thread in reviewers:
            thread.start()
        matches.append(_svidok(ws.root, "match"))
        for thread in reviewers:
            thread.join(300)
        outputs = [(p.args[3], p.wait(600), *p.communicate()) for p in (analysis, *matches)]

    assert not [s for s in statuses if s >= 500], statuses
    assert failures == []
    for command, code, out, err in outputs:
        assert code == 0, f"{command}: {err[-2000:]}"
        assert "locked" not in out + err and "Traceback" not in err, f"{command}: {err[-2000:]}"
    assert '"analyzed": ' in outputs[0][2] or '"done"' in outputs[0][2], outputs[0][2][-500:]
    rows = ws.conn.execute("SELECT sighting_id, u.name FROM decision d JOIN app_user u ON u.id = d.reviewer_id"
                           " WHERE sighting_id IN (%s)" % ",".join("?" * len(sightings)), sightings).fetchall()
    assert sorted((r[0], r[1]) for r in rows) == sorted(recorded)                 # none lost, none twice
    assert len(recorded) == 2 * len(sightings)
    analyzed = ws.conn.execute("SELECT count(DISTINCT media_sha256) FROM analysis WHERE status = 'done'").scalar_one()
    assert analyzed >= MEDIA_FILES
    assert ws.audit.verify().ok
