"""run_analysis with a background analyzer: computed in a thread beside the others, stored in
the workspace's thread, one file's failure recorded without stopping the run."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from svidok.analyzers.base import AnalysisError, AnalysisOutcome, Analyzer, BackgroundAnalyzer, MediaFile
from svidok.foundation.archive import Archive
from svidok.pipeline import run_analysis


class Slow(BackgroundAnalyzer):
    """Computes slowly in whatever thread it is given; refuses the file whose name says 'bad'."""

    name, version, accepts = "slow", "1", ("text",)

    def __init__(self) -> None:
        self.started = threading.Event()
        self.compute_threads: set[str] = set()
        self.store_threads: set[str] = set()
        self.gathered: list[str] = []

    def gather(self, media: MediaFile, workspace: Any) -> str:
        self.gathered.append(threading.current_thread().name)
        return media.path.read_text()

    def compute(self, media: MediaFile, gathered: str) -> str:
        self.started.set()
        self.compute_threads.add(threading.current_thread().name)
        time.sleep(0.2)
        if "bad" in gathered:
            raise AnalysisError("cannot read this one")
        return gathered.upper()

    def store(self, media: MediaFile, computed: str, workspace: Any) -> AnalysisOutcome:
        self.store_threads.add(threading.current_thread().name)
        assert workspace.conn.in_transaction
        return AnalysisOutcome({"slow": len(computed)})


class Quick(Analyzer):
    """A foreground analyzer that notes whether the background one was already working."""

    name, version, accepts = "quick", "1", ("text",)

    def __init__(self, other: Slow) -> None:
        self.other = other
        self.saw_background_running = False
        self.computed_in_transaction = False

    def gather(self, media: MediaFile, workspace: Any) -> Any:
        return workspace

    def compute(self, media: MediaFile, workspace: Any) -> None:
        self.computed_in_transaction |= workspace.conn.in_transaction
        self.saw_background_running |= self.other.started.wait(5)

    def store(self, media: MediaFile, computed: None, workspace: Any) -> AnalysisOutcome:
        assert workspace.conn.in_transaction
        return AnalysisOutcome({"quick": 1})


def test_background_computes_in_a_thread_while_the_foreground_works(fresh_workspace, tmp_path: Path) -> None:
    ws = fresh_workspace
    for name in ("one", "bad", "three"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"{name} text")
        Archive(ws, "test", "1").register_media(ws.media.put_file(path), path.name)
    slow = Slow()
    quick = Quick(slow)

    report = run_analysis(ws, [quick, slow])

    assert quick.saw_background_running
    assert not quick.computed_in_transaction            # no write lock held while computing
    assert slow.compute_threads and threading.main_thread().name not in slow.compute_threads
    assert slow.store_threads == set(slow.gathered) == {threading.main_thread().name}
    assert report.counts == {"quick": 3, "slow": len("one text") + len("three text")}
    assert [e["error"] for e in report.errors] == ["cannot read this one"] and report.failed == 1
    status = dict(ws.conn.execute("SELECT analyzer || ':' || status, COUNT(*) FROM analysis GROUP BY 1").fetchall())
    assert status == {"quick:done": 3, "slow:done": 2, "slow:failed": 1}
    assert run_analysis(ws, [quick, slow]).counts == {}               # nothing left to do
    assert run_analysis(ws, [slow]).errors[0]["error"] == "cannot read this one"   # failed files are retried
