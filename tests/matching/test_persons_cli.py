"""`svidok person ...` and `svidok consent add`: records, validation, JSON shapes."""

from __future__ import annotations

import json


def test_person_add_list_show(run_json, person_with_consent) -> None:
    person, consent = person_with_consent
    listed = run_json("person", "list")
    assert [(p["id"], p["name"], p["searchable"], p["references"]) for p in listed] == [
        (person, "Олександр Петренко", True, 0)]
    shown = run_json("person", "show", str(person))
    assert shown["name_variants"] == ["Александр Петренко"]
    assert shown["born"] == "1990-03-14" and shown["unit"] == "72 ОМБр"
    assert [(c["id"], c["scopes"], c["active"]) for c in shown["consents"]] == [(consent, ["court", "identification"],
                                                                                 True)]
    assert shown["references"] == 0 and shown["sightings"] == []
    assert shown["status"] == {"step": "missing", "confirmation": None, "reports": [], "place": None, "informed": []}
    assert [(e["step"], e["actor"]) for e in shown["timeline"]] == [("missing", "cli")]


def test_person_show_prints_the_timeline_for_people(run_cli, person_with_consent) -> None:
    person, _ = person_with_consent
    result = run_cli("person", "show", str(person))
    assert result.exit_code == 0
    assert "Олександр Петренко — missing" in result.output and "recorded as missing" in result.output


def test_status_steps_of_an_unknown_person_are_one_line_errors(run_cli, run_json) -> None:
    run_json("init")
    for args in (("person", "show", "7"), ("person", "liaison", "7"),
                 ("person", "report", "7", "--to", "icrc", "--date", "2024-06-01", "--by", "X")):
        result = run_cli(*args, "--json")
        assert result.exit_code == 1 and "no person" in json.loads(result.stdout)["error"], args


def test_bad_values_are_one_line_errors(run_cli, run_json) -> None:
    run_json("init")
    result = run_cli("person", "add", "--name", "X", "--born", "14.03.1990", "--json")
    assert result.exit_code == 1 and "YYYY-MM-DD" in json.loads(result.stdout)["error"]
    person = run_json("person", "add", "--name", "Іван Коваль")["id"]
    result = run_cli("consent", "add", str(person), "--given-by", "A", "--relation", "wife", "--date", "2024-01-01",
                     "--scope", "identification,publish-everywhere", "--json")
    assert result.exit_code == 1 and "publish-everywhere" in json.loads(result.stdout)["error"]
    result = run_cli("consent", "add", "99", "--given-by", "A", "--relation", "wife", "--date", "2024-01-01", "--json")
    assert result.exit_code == 1 and "no person" in json.loads(result.stdout)["error"]


def test_consent_without_identification_scope_does_not_make_person_searchable(run_json) -> None:
    run_json("init")
    person = run_json("person", "add", "--name", "Іван Коваль")["id"]
    run_json("consent", "add", str(person), "--given-by", "A", "--relation", "wife", "--date", "2024-01-01",
             "--scope", "court")
    assert run_json("person", "list")[0]["searchable"] is False


def test_revoking_twice_is_refused(run_cli, run_json, person_with_consent) -> None:
    _, consent = person_with_consent
    removed = run_json("consent", "revoke", str(consent))["removed"]
    assert removed == {"references": 0, "files": 0, "embeddings": 0, "sightings_withdrawn": 0, "confirmed_marked": 0}
    result = run_cli("consent", "revoke", str(consent), "--json")
    assert result.exit_code == 1 and "already revoked" in json.loads(result.stdout)["error"]
    assert run_json("person", "list")[0]["searchable"] is False
