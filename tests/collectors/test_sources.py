"""configs/sources.toml, `svidok collect --all` and `svidok sources`."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from svidok.collectors.sources import KINDS, Source, SourcesError, collectors_for, load_sources
from tests.collectors.fake_tme_server import FakeTelegram
from tests.collectors.test_tme_web import guard  # noqa: F401 - fixture: no request may leave 127.0.0.1

REPO = Path(__file__).resolve().parents[2]


def test_example_file_is_valid_and_all_commented():
    assert load_sources(REPO / "configs" / "sources.toml") == []


@pytest.mark.parametrize("body, message", [
    ('[[source]]\nkind = "telegram-web"\n', "needs `kind` and `target`"),
    ('[[source]]\nkind = "telegram-web"\ntarget = "x"\nlanguage = "en"\n', "language must be one of ru, uk"),
    ('[[source]]\nkind = "telegram-web"\ntarget = "x"\nchannel = "y"\n', "unknown key(s) channel"),
    ("[[source]\n", "not valid TOML"),
])
def test_bad_files_name_the_problem(tmp_path, body, message):
    path = tmp_path / "sources.toml"
    path.write_text(body)
    with pytest.raises(SourcesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_sources(path)


def test_each_kind_is_one_module_that_runs_itself_and_unknown_kinds_are_refused(fresh_workspace):
    assert set(KINDS) == {"telegram-web", "telegram", "video"}
    assert all(KINDS[kind] == f"svidok.collectors.{KINDS[kind].rpartition('.')[2]}" for kind in KINDS)
    assert all(callable(importlib.import_module(module).collectors_for) for module in KINDS.values())
    with pytest.raises(SourcesError, match="unknown collector kind 'nope'"):
        collectors_for(fresh_workspace, Source("nope", "x"))


def test_collect_all_goes_on_after_a_failing_source_and_sources_shows_state(fresh_workspace, run_json, run_cli,
                                                                            tmp_path, guard):  # noqa: F811
    site = FakeTelegram()
    site.start()
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nkind = "nope"\ntarget = "first"\nnotes = "fails"\n\n'
            f'[[source]]\nkind = "telegram-web"\ntarget = "testchan"\nlanguage = "uk"\nbase_url = "{site.base}"\n'
            f'max_pages = 5\n')
        report = run_json("collect", "--all", "--sources", str(sources))
        assert report["failed_sources"] == 1 and report["items"] == 29
        assert [(r["target"], r["status"]) for r in report["sources"]] == [("first", "failed"), ("testchan", "ok")]
        languages = {row[0] for row in fresh_workspace.conn.execute("SELECT DISTINCT language FROM item")}
        assert languages == {"uk"}
        again = run_json("collect", "--all", "--sources", str(sources))
        assert again["items"] == 0 and again["duplicates"] == 10
        state = {r["source_key"]: r for r in run_json("sources", "--sources", str(sources))}
    finally:
        site.stop()
    assert state["telegram-web:testchan"]["items_total"] == 29
    assert state["telegram-web:testchan"]["last_status"] == "ok" and state["telegram-web:testchan"]["last_run_at"]
    assert state["nope:first"]["last_status"] == "failed"
    assert "unknown collector kind" in state["nope:first"]["errors"][0]
    assert run_cli("collect", "--all", "--sources", str(tmp_path / "missing.toml")).exit_code == 1
    only_failing = tmp_path / "failing.toml"
    only_failing.write_text('[[source]]\nkind = "nope"\ntarget = "first"\n')
    failed = run_json("collect", "--all", "--sources", str(only_failing), exit_code=1)   # nothing could be done
    assert failed["failed_sources"] == 1 and failed["sources"][0]["status"] == "failed"
