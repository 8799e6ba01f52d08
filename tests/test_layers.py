"""The package's shape: one importable root, and layers whose imports only point downwards."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_imports_keep_the_layer_contract():
    """foundation <- stages <- application, as pyproject.toml's import-linter contract states."""
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_wheel_installs_only_svidok_with_every_stage_and_its_files(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("svidok-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"svidok"}
    for expected in ("svidok/foundation/workspace.py", "svidok/collectors/base.py", "svidok/analyzers/base.py",
                     "svidok/matching/base.py", "svidok/cases/export.py", "svidok/review_ui/app.py",
                     "svidok/cli/main.py", "svidok/pipeline/collect.py", "svidok/review_ui/templates/base.html",
                     "svidok/review_ui/static/app.js", "svidok/cases/templates/summary.html",
                     "svidok/demo/assets/captive_ru.ogg"):
        assert expected in names, expected
