"""Analysis gives up CPU priority, so reviewers' pages are not slowed by it (analyze.nice)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import json, os, sys
import svidok.pipeline as pipeline
from svidok.pipeline import AnalysisReport

def run_analysis(*args, **kwargs):        # what the analysis would run at
    print(json.dumps({"niceness": os.nice(0)}), file=sys.stderr)
    return AnalysisReport()

pipeline.run_analysis = run_analysis
from svidok.cli.main import main
main(["analyze", "--json"])
"""


def test_svidok_analyze_runs_at_the_configured_niceness(run_cli, workspace_path) -> None:
    run_cli("init")
    before = os.nice(0)
    for nice, expected in (("7", before + 7), ("0", before)):
        env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path), "SVIDOK_ANALYZE_NICE": nice}
        done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        seen = json.loads(next(line for line in done.stderr.splitlines() if line.startswith('{"niceness"')))
        assert seen["niceness"] == min(expected, 19)
