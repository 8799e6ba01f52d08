"""`svidok person import`: a register CSV in, persons + consents + checked reference photos out."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from svidok.foundation.workspace import Workspace
from tests.conftest import REPO
from tests.matching.conftest import archive_photo, insert_faces

COLUMNS = ["name", "name_variants", "born", "category", "unit", "disappeared_on", "disappeared_place", "case_number",
           "consent_given_by", "consent_relation", "consent_date", "consent_scope", "photos"]
MOTHER = {"consent_given_by": "Марія Петренко", "consent_relation": "mother", "consent_date": "2024-05-01"}


def write_register(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS,
                   encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def counts(workspace_path: Path) -> dict[str, int]:
    with Workspace.open(workspace_path) as ws:
        return {t: ws.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("person", "consent", "reference")}


def actions(workspace_path: Path) -> list[str]:
    with Workspace.open(workspace_path) as ws:
        return [r[0] for r in ws.conn.execute("SELECT action FROM audit ORDER BY seq")]


def audit_and_records_verify(run_json) -> None:
    assert run_json("audit", "verify")["ok"] is True
    report = run_json("verify")
    assert report["ok"] is True, report["problems"]


@pytest.mark.models
def test_import_enrolls_checked_photos_and_reimport_adds_nothing(run_json, photos, tmp_path, workspace_path) -> None:
    run_json("init")
    register = write_register(tmp_path / "register.csv", [
        {"name": "Олександр  Петренко", "name_variants": "Александр Петренко; Oleksandr Petrenko", "born": "1990",
         "category": "serviceman", "unit": "72 ОМБр", "disappeared_on": "2022-05-01", "disappeared_place": "Маріуполь",
         "case_number": "UA-0001", **MOTHER, "consent_scope": "identification,court",
         "photos": "photos/blank.jpg;photos/reference.jpg"},
        {"name": "Іван Коваль", "born": "1985-02-11", **MOTHER, "consent_relation": "wife"},
        {"name": "Петро Сидоренко", "photos": "photos/reference.jpg"},                   # no consent
    ])
    first = run_json("person", "import", str(register), "--no-search")
    assert (first["rows"], first["persons"], first["existing"], first["consents"], first["references"]) == (3, 3, 0, 2, 1)
    assert first["rejected"] == [
        {"row": 2, "column": "photos", "photo": "photos/blank.jpg", "reason": "no face found"},
        {"row": 4, "column": "photos", "photo": "photos/reference.jpg",
         "reason": "no consent: the row records none, so its photos are not enrolled"}]
    with Workspace.open(workspace_path) as ws:
        person = next(ws.db.query("SELECT * FROM person WHERE register_number = 'UA-0001'"))
        assert (person["name"], person["born"], person["category"], person["disappeared_at"]) == (
            "Олександр Петренко", "1990", "serviceman", "Маріуполь")
        assert json.loads(person["name_variants"]) == ["Александр Петренко", "Oleksandr Petrenko"]
        consent = ws.conn.execute("SELECT person_id, relation, scopes FROM consent ORDER BY id").fetchall()
        assert [(c[0], c[1], json.loads(c[2])) for c in consent][0] == (person["id"], "mother", ["court", "identification"])
        refs = ws.conn.execute("SELECT person_id, photo_path FROM reference").fetchall()
        assert [r[0] for r in refs] == [person["id"]] and (ws.root / refs[0][1]).is_file()
        assert not any(ws.media.root.rglob("*.jpg"))                     # references never go to media/
    log = actions(workspace_path)
    assert (log.count("person.add"), log.count("consent.add"), log.count("reference.enroll")) == (3, 2, 1)
    assert log[-1] == "person.import"

    again = run_json("person", "import", str(register), "--no-search")
    assert (again["persons"], again["existing"], again["consents"], again["references"], again["photos_known"]) == (
        0, 3, 0, 0, 1)
    assert again["rejected"] == [first["rejected"][0], first["rejected"][1]]           # judged again, same reasons
    assert counts(workspace_path) == {"person": 3, "consent": 2, "reference": 1}
    audit_and_records_verify(run_json)


@pytest.mark.models
def test_retroactive_search_runs_once_and_finds_an_archived_face(run_json, photos, tmp_path, workspace_path) -> None:
    run_json("init")
    media = archive_photo(run_json, photos["archive"])
    with Workspace.open(workspace_path) as ws:
        insert_faces(ws, media, photos["archive"])
    register = write_register(tmp_path / "register.csv", [
        {"name": "Олександр Петренко", "case_number": "UA-1", **MOTHER, "photos": "reference.jpg"},
        {"name": "Іван Коваль", "case_number": "UA-2", **MOTHER},
    ])
    report = run_json("person", "import", str(register), "--photos", str(photos["reference"].parent))
    assert report["references"] == 1 and report["search"] == {"persons": 2, "new_sightings": 1}
    with Workspace.open(workspace_path) as ws:
        person = ws.conn.execute("SELECT id FROM person WHERE register_number = 'UA-1'").scalar_one()
    queue = run_json("sightings", "list")
    assert [(s["person_id"], s["media_sha256"], s["status"]) for s in queue] == [(person, media, "pending")]
    assert queue[0]["reasons"][0]["kind"] == "face"
    assert actions(workspace_path).count("match.run") == 1                # one search for the whole import
    assert run_json("person", "import", str(register), "--photos", str(photos["reference"].parent))["search"] is None
    audit_and_records_verify(run_json)


@pytest.mark.models
def test_photo_paths_leading_out_of_the_photos_folder_are_refused(run_json, photos, tmp_path) -> None:
    run_json("init")
    folder = tmp_path / "register-photos"
    (folder / "family").mkdir(parents=True)
    (folder / "family" / "inside.jpg").symlink_to(photos["reference"].parent / "tiny.jpg")   # out, though a face
    (folder / "album").symlink_to(photos["reference"].parent, target_is_directory=True)
    (folder / "ok.jpg").write_bytes(photos["reference"].read_bytes())
    (folder / "family" / "link-in.jpg").symlink_to(folder / "ok.jpg")
    register = write_register(tmp_path / "register.csv", [{
        "name": "Олександр Петренко", **MOTHER,
        "photos": f"../photos/reference.jpg;{photos['reference']};family/inside.jpg;album/reference.jpg;"
                  "family/../family/link-in.jpg;nothing-here.jpg;family"}])
    report = run_json("person", "import", str(register), "--photos", str(folder), "--no-search")
    reasons = {r["photo"]: r["reason"] for r in report["rejected"]}
    assert all(r["row"] == 2 and r["column"] == "photos" for r in report["rejected"])
    assert "outside the photos folder" in reasons["../photos/reference.jpg"]
    assert reasons[str(photos["reference"])].startswith("absolute path")
    assert "outside the photos folder" in reasons["family/inside.jpg"]
    assert "outside the photos folder" in reasons["album/reference.jpg"]
    assert reasons["nothing-here.jpg"] == "file not found" and reasons["family"] == "not a regular file"
    assert "family/../family/link-in.jpg" not in reasons                    # a link that stays inside is fine
    assert (report["persons"], report["references"]) == (1, 1)


def test_bad_rows_are_reported_by_row_column_and_reason_and_the_run_goes_on(run_cli, run_json, tmp_path,
                                                                             workspace_path) -> None:
    run_json("init")
    owner = run_json("person", "add", "--name", "Степан Мельник", "--register-number", "UA-7")["id"]
    register = tmp_path / "register.csv"
    register.write_text(
        "name,born,category,case_number,consent_given_by,consent_relation,consent_date,consent_scope\n"
        "Good One,1990,civilian,,,,,\n"                                   # 2
        "Bad Born,14.03.1990,,,,,,\n"                                     # 3
        "Bad Category,,soldier,,,,,\n"                                    # 4
        "Half Consent,,,,Мати,,2024-05-01,\n"                              # 5
        "Bad Scope,,,,Мати,mother,2024-05-01,identification;court\n"      # 6
        ",1990,,,,,,\n"                                                   # 7
        "\n"                                                              # 8: blank, skipped
        "Too Many,,,,,,,,extra\n"                                         # 9
        "Someone Else,,,UA-7,,,,\n"                                       # 10: another person's case number
        '"Good Two, Jr.",1970-01-31,,,Мати,mother,2024-05-01,court\n',    # 11
        encoding="utf-8")
    result = run_cli("person", "import", str(register), "--json", "--no-search")
    assert result.exit_code == 0, result.output                          # partial success is not failure
    report = json.loads(result.stdout)
    assert (report["rows"], report["persons"], report["refused_rows"], report["consents"]) == (9, 2, 7, 1)
    assert [(r["row"], r.get("column")) for r in report["rejected"]] == [
        (3, "born"), (4, "category"), (5, "consent_relation"), (6, "consent_scope"), (7, "name"), (9, None),
        (10, "case_number")]
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert reasons[3] == "expected YYYY-MM-DD or YYYY, got '14.03.1990'"
    assert "soldier" in reasons[4] and "identification;court" in reasons[6]
    assert reasons[9] == "9 fields, but the header has 8"
    assert f"person {owner}'s" in reasons[10]
    assert counts(workspace_path) == {"person": 3, "consent": 1, "reference": 0}
    with Workspace.open(workspace_path) as ws:
        assert [r[0] for r in ws.conn.execute("SELECT name FROM person ORDER BY id")] == [
            "Степан Мельник", "Good One", "Good Two, Jr."]

    nothing = write_register(tmp_path / "bad.csv", [{"name": "X", "born": "someday"}], ["name", "born"])
    result = run_cli("person", "import", str(nothing), "--json")
    assert result.exit_code == 1                                          # no row could be imported
    assert json.loads(result.stdout)["rejected"] == [{"row": 2, "column": "born",
                                                      "reason": "expected YYYY-MM-DD or YYYY, got 'someday'"}]


def test_recognises_rows_by_case_number_else_by_name_and_born(run_json, tmp_path, workspace_path) -> None:
    run_json("init")
    by_hand = run_json("person", "add", "--name", "Іван Коваль", "--born", "1985-02-11")["id"]
    register = write_register(tmp_path / "register.csv", [
        {"name": "іван   коваль", "born": "1985-02-11", "case_number": "UA-3"},   # the person added by hand
        {"name": "Іван Коваль", "born": "1985"},                                  # another person: born differs
        {"name": "Олег Бондар", "case_number": "UA-4"},
        {"name": "Олег Бондар", "case_number": "UA-5"},                           # namesake, other case number
        {"name": "Олег Бондар", "case_number": "UA-4"},                           # a repeated row
    ])
    report = run_json("person", "import", str(register), "--no-search")
    assert (report["persons"], report["existing"]) == (3, 2)
    again = run_json("person", "import", str(register), "--no-search")
    assert (again["persons"], again["existing"], again["rejected"]) == (0, 5, [])
    with Workspace.open(workspace_path) as ws:
        rows = ws.conn.execute("SELECT id, register_number FROM person ORDER BY id").fetchall()
    assert [r[1] for r in rows] == [None, None, "UA-4", "UA-5"] and rows[0][0] == by_hand


def test_a_revoked_consent_is_not_brought_back_by_reimport(run_json, tmp_path, workspace_path) -> None:
    run_json("init")
    register = write_register(tmp_path / "register.csv", [{"name": "Олександр Петренко", "case_number": "UA-1",
                                                           **MOTHER}])
    run_json("person", "import", str(register), "--no-search")
    with Workspace.open(workspace_path) as ws:
        consent = ws.conn.execute("SELECT id FROM consent").scalar_one()
    run_json("consent", "revoke", str(consent))
    photo = tmp_path / "face.jpg"
    photo.write_bytes(b"\xff\xd8 not looked at: there is no consent")
    write_register(register, [{"name": "Олександр Петренко", "case_number": "UA-1", **MOTHER, "photos": "face.jpg"}])
    again = run_json("person", "import", str(register), "--no-search")
    assert (again["existing"], again["consents"], again["references"]) == (1, 0, 0)
    assert again["rejected"][0]["reason"].startswith("no consent: person ")
    assert "has no active consent with scope 'identification'" in again["rejected"][0]["reason"]
    assert counts(workspace_path)["consent"] == 1
    assert run_json("person", "list")[0]["searchable"] is False


def test_photos_of_a_row_without_consent_are_rejected_even_for_a_consented_person(run_json, tmp_path) -> None:
    run_json("init")
    person = run_json("person", "add", "--name", "Іван Коваль", "--register-number", "UA-9")["id"]
    run_json("consent", "add", str(person), "--given-by", "Олена Коваль", "--relation", "wife", "--date", "2024-01-02")
    (tmp_path / "face.jpg").write_bytes(b"\xff\xd8 never looked at")
    register = write_register(tmp_path / "register.csv", [{"name": "Іван Коваль", "case_number": "UA-9",
                                                           "photos": "face.jpg"}])
    report = run_json("person", "import", str(register), "--no-search")
    assert (report["existing"], report["references"]) == (1, 0)
    assert report["rejected"] == [{"row": 2, "column": "photos", "photo": "face.jpg",
                                   "reason": "no consent: the row records none, so its photos are not enrolled"}]


@pytest.mark.parametrize("content, error", [
    ("name,born\nОлександр Петренко,1990\n".encode("cp1251"), "not UTF-8"),
    ("born,case_number\n1990,UA-1\n".encode(), "no `name` column"),
    ("name,case_numbr\nX,UA-1\n".encode(), "unknown column(s) 'case_numbr'"),
    ("name,name\nX,Y\n".encode(), "given more than once"),
    (b"", "is empty"),
    (b"name\n", "no person rows"),
    (("name\n" + "Особа\n" * 5000).encode() + "Зіна\n".encode("cp1251"), "not UTF-8"),   # bad byte at the end
])
def test_a_file_that_cannot_be_read_is_refused_before_anything_is_written(run_cli, run_json, tmp_path, content,
                                                                         error, workspace_path) -> None:
    run_json("init")
    register = tmp_path / "register.csv"
    register.write_bytes(content)
    result = run_cli("person", "import", str(register), "--json")
    assert result.exit_code == 1
    assert error in json.loads(result.stdout)["error"]
    assert counts(workspace_path) == {"person": 0, "consent": 0, "reference": 0}


def test_bom_accepted_and_usage_errors_exit_2(run_cli, run_json, tmp_path) -> None:
    run_json("init")
    register = tmp_path / "register.csv"
    register.write_bytes("\ufeffName,Born,\nОлександр Петренко,1990,\n".encode())   # Excel's BOM, a trailing comma
    assert run_json("person", "import", str(register))["persons"] == 1
    assert run_cli("person", "import", str(tmp_path / "missing.csv")).exit_code == 2
    assert run_cli("person", "import", str(register), "--photos", str(tmp_path / "nowhere")).exit_code == 2


def test_absurd_row_counts_are_bounded(tmp_path) -> None:
    from svidok.matching.register_csv import RegisterError, open_register

    register = write_register(tmp_path / "register.csv", [{"name": f"P{i}"} for i in range(11)], ["name"])
    assert open_register(register, max_rows=11).count == 11
    with pytest.raises(RegisterError, match="more than 10 person rows"):
        open_register(register, max_rows=10)


def test_an_interrupted_import_resumes_where_it_stopped(run_json, tmp_path, workspace_path) -> None:
    run_json("init")
    total = 4000
    register = write_register(tmp_path / "register.csv", [
        {"name": f"Особа {i}", "case_number": f"UA-{i:05d}", **MOTHER} for i in range(total)])
    env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path)}
    command = [sys.executable, "-m", "svidok.cli", "person", "import", str(register), "--json", "--no-search"]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while counts(workspace_path)["person"] < 100 and time.time() < deadline and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.communicate(timeout=30)
    interrupted = counts(workspace_path)
    assert 100 <= interrupted["person"] < total, interrupted                # killed half way
    resumed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["existing"] == interrupted["person"] and report["persons"] == total - interrupted["person"]
    assert report["consents"] == total - interrupted["consent"]
    with Workspace.open(workspace_path) as ws:
        assert ws.conn.execute("SELECT count(DISTINCT register_number) FROM person").scalar_one() == total
        per_person = ws.conn.execute("SELECT count(*) FROM consent GROUP BY person_id").fetchall()
        assert len(per_person) == total and {r[0] for r in per_person} == {1}
        assert ws.audit.verify().ok
    assert counts(workspace_path)["person"] == total


def test_two_imports_of_one_register_at_once_add_each_person_and_consent_once(run_json, tmp_path,
                                                                              workspace_path) -> None:
    run_json("init")
    total = 600
    rows = [{"name": f"Особа {i}", "born": "1990", **MOTHER} for i in range(total)]         # no case numbers:
    register = write_register(tmp_path / "register.csv", rows)                             # found by name + born
    env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path)}
    command = [sys.executable, "-m", "svidok.cli", "person", "import", str(register), "--json", "--no-search"]
    runs = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    reports = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        reports.append(json.loads(out))
    assert sum(r["persons"] for r in reports) == total                     # each person added by one run only
    assert sum(r["consents"] for r in reports) == total
    assert counts(workspace_path) == {"person": total, "consent": total, "reference": 0}
    with Workspace.open(workspace_path) as ws:
        assert ws.audit.verify().ok
