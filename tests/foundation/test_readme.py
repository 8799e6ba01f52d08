"""README.md tells the truth: its command reference is generated from the current help texts."""

from __future__ import annotations

from svidok.cli.reference import END, START, render
from tests.conftest import REPO


def test_readme_command_reference_is_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    current = readme[readme.index(START): readme.index(END) + len(END)]
    assert current == render(), "run: .venv/bin/python -m svidok.cli.reference --write README.md"


def test_readme_names_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
