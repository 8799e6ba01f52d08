"""The whole slice through the CLI and the UI's HTTP endpoints, on the demo material.

`svidok demo --no-serve` archives the generated channel export, registers and enrolls the
missing person, analyzes with the real models and matches. Then two reviewers confirm the
sighting blind through the UI's HTTP endpoints, a case officer exports the case, and the bag
validates with bagit's own validator.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import bagit
import httpx
import pytest

from tests.conftest import REPO, serving
from tests.factories import evidence

pytestmark = [pytest.mark.models, pytest.mark.usefixtures("module_database")]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def svidok(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "svidok.cli", *args], cwd=REPO, capture_output=True, text=True,
                          input=input, timeout=900)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, module_database) -> dict:
    root = tmp_path_factory.mktemp("demo") / "ws"
    done = svidok("demo", "--no-serve", "--workspace", str(root), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result["passwords"] = dict(re.findall(r"^(reviewer1|reviewer2|officer)\s+(\S+)$", done.stderr, re.M))
    result["material"] = root.parent / "ws-material" / "ChatExport_demo"
    return result


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_enrolled_person_has_one_sighting_with_face_and_name_reasons(demo):
    assert demo["sightings"] == 1
    [sighting] = demo["queue"]
    assert sighting["status"] == "pending" and sighting["person_id"] == 1
    assert sighting["media_sha256"] == sha256_of(demo["material"] / "video_files/plennye_1.mp4")
    kinds = {reason["kind"] for reason in sighting["reasons"]}
    assert {"face", "name"} <= kinds, sighting["reasons"]
    name = next(r for r in sighting["reasons"] if r["kind"] == "name")
    assert "петрен" in name["text"].lower() and name["field"] == "transcript"


def test_person_not_enrolled_raises_nothing(demo):
    others = {sha256_of(demo["material"] / "video_files/plennye_2.mp4"),
              sha256_of(demo["material"] / "photos/photo_3@12-03-2024_10-15-00.jpg")}
    listed = json.loads(svidok("sightings", "list", "--workspace", demo["workspace"], "--json").stdout)
    assert listed and not [s for s in listed if s["media_sha256"] in others]


@pytest.fixture(scope="module")
def ui(demo):
    from svidok.foundation.workspace import Workspace
    from svidok.review_ui.app import create_app

    with Workspace.open(Path(demo["workspace"])) as ws, serving(create_app(ws)) as url:
        yield url


def logged_in(base: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    token = CSRF.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf": token})
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = CSRF.search(client.get("/settings").text).group(1)
    return client


def test_two_blind_confirmations_through_the_ui_then_a_valid_bag(demo, ui, tmp_path):
    [sighting] = demo["queue"]
    sid, passwords = sighting["id"], demo["passwords"]
    first = logged_in(ui, "reviewer1", passwords["reviewer1"])
    decided = first.post(f"/api/sightings/{sid}/decision", json={"verdict": "confirm",
                                                                  **evidence("same hairline and brows")})
    assert decided.status_code == 200 and decided.json()["status"] == "pending"

    second = logged_in(ui, "reviewer2", passwords["reviewer2"])
    before = second.get(f"/api/sightings/{sid}").json()
    assert not before["decisions"], "the second reviewer must not see the first decision"
    decided = second.post(f"/api/sightings/{sid}/decision", json={"verdict": "confirm",
                                                                   **evidence("the same scar above the brow")})
    assert decided.json()["status"] == "confirmed"

    ws = demo["workspace"]
    case = json.loads(svidok("case", "open", "1", "--workspace", ws, "--json").stdout)
    attached = svidok("case", "attach", str(case["id"]), str(sid), "--workspace", ws, "--json")
    assert attached.returncode == 0, attached.stderr
    exported = svidok("case", "export", str(case["id"]), "--recipient", "icrc", "--out", str(tmp_path),
                      "--workspace", ws, "--json")
    assert exported.returncode == 0, exported.stderr
    bag = bagit.Bag(json.loads(exported.stdout)["bag"])
    assert bag.is_valid()
    payload = {Path(p).name for p in bag.payload_files()}
    assert f"{sighting['media_sha256']}.mp4" in payload or any(sighting["media_sha256"] in p for p in payload)
    assert json.loads(svidok("audit", "verify", "--workspace", ws, "--json").stdout)["ok"] is True
