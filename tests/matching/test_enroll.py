"""`svidok enroll`: consent required, each photo checked with the real face models."""

from __future__ import annotations

import json

import pytest

from svidok.analyzers.face_spaces import dimension_of, space_of
from svidok.foundation.workspace import Workspace

pytestmark = pytest.mark.models


def test_enroll_refuses_without_active_consent(run_cli, run_json, photos) -> None:
    run_json("init")
    person = run_json("person", "add", "--name", "Іван Коваль")["id"]
    result = run_cli("enroll", str(person), str(photos["reference"]), "--json")
    assert result.exit_code == 1
    assert "no active consent" in json.loads(result.stdout)["error"]


def test_enroll_checks_each_photo_and_says_why(run_json, person_with_consent, photos, workspace_path) -> None:
    person, _ = person_with_consent
    order = ["blank", "two", "tiny", "blurred", "reference"]
    results = run_json("enroll", str(person), *(str(photos[k]) for k in order), "--no-search")
    by_name = dict(zip(order, results))
    assert by_name["blank"] == {"photo": str(photos["blank"]), "status": "rejected", "reason": "no face found"}
    assert "2 faces found" in by_name["two"]["reason"]
    assert by_name["tiny"]["status"] == "rejected" and "too small" in by_name["tiny"]["reason"]
    assert by_name["blurred"]["status"] == "rejected" and "blurred" in by_name["blurred"]["reason"]
    assert by_name["reference"]["status"] == "accepted"
    with Workspace.open(workspace_path) as ws:
        rows = ws.conn.execute("SELECT photo_path, length(embedding), model FROM reference").fetchall()
        model = ws.settings.analyze.face_model                  # enrollment embeds with the active face model
        assert len(rows) == 1 and rows[0][1] == dimension_of(model) * 4 and rows[0][2] == space_of(model).model
        assert rows[0][0].startswith("references/") and (ws.root / rows[0][0]).is_file()
        assert not any(ws.media.root.rglob("*.jpg"))           # references never go to media/
        actions = [e["action"] for e in ws.audit.entries()]
        assert "reference.enroll" in actions


def test_face_option_picks_one_of_several(run_json, person_with_consent, photos) -> None:
    person, _ = person_with_consent
    result = run_json("enroll", str(person), str(photos["two"]), "--face", "2", "--no-search")
    assert result[0]["status"] == "accepted"
    assert run_json("person", "show", str(person))["references"] == 1


def test_every_photo_rejected_exits_1_with_the_reasons(run_cli, run_json, person_with_consent, photos) -> None:
    person, _ = person_with_consent
    result = run_cli("enroll", str(person), str(photos["blank"]), str(photos["tiny"]), "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)                                     # the same list, not {"error": ...}
    assert [(r["photo"], r["status"]) for r in rows] == [(str(photos["blank"]), "rejected"),
                                                         (str(photos["tiny"]), "rejected")]
    assert rows[0]["reason"] == "no face found" and "too small" in rows[1]["reason"]
    partial = run_json("enroll", str(person), str(photos["blank"]), str(photos["reference"]), "--no-search")
    assert [r["status"] for r in partial] == ["rejected", "accepted"]   # partial success exits 0
