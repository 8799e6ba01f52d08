"""No run holds the database's write lock while it waits on the network or computes.

Another process (the review UI, `svidok match`) must be able to write meanwhile; with a lock
held it got "database is locked" after its busy timeout.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from svidok.analyzers.base import AnalysisOutcome, Analyzer, MediaFile
from svidok.collectors.base import Collector
from svidok.foundation.archive import Archive, ItemRecord
from svidok.foundation.database import Database
from svidok.foundation.workspace import connect, database_url
from svidok.pipeline import run_analysis, run_collector


class WaitingCollector(Collector):
    """Yields one post, then waits (as on the network) until told to go on."""

    name, version = "waiting", "1"

    def __init__(self) -> None:
        self.waiting, self.go = threading.Event(), threading.Event()

    def collect(self):
        yield ItemRecord("test", "one", text="first")
        self.waiting.set()
        self.go.wait(10)
        yield ItemRecord("test", "two", text="second")


class WaitingAnalyzer(Analyzer):
    """Computes until told to stop."""

    name, version, accepts = "waiting", "1", ("text",)

    def __init__(self) -> None:
        self.computing, self.go = threading.Event(), threading.Event()

    def compute(self, media: MediaFile, gathered: Any) -> None:
        self.computing.set()
        self.go.wait(10)

    def store(self, media: MediaFile, computed: None, workspace: Any) -> AnalysisOutcome:
        return AnalysisOutcome({"waited": 1})


def write_from_another_connection(ws) -> None:
    """A short write, as the review UI makes, with a short busy timeout: raises if the lock is held."""
    other = Database(database_url(ws.root, ws.settings), write_wait_s=0.3)
    try:
        with other.transaction():
            other.execute("INSERT INTO source_state (source_key, last_status) VALUES ('ui-probe', 'ok')"
                          " ON CONFLICT(source_key) DO UPDATE SET last_status = 'ok'")
    finally:
        other.close()


def in_thread(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args)
    thread.start()
    return thread


def test_a_collector_waiting_on_the_network_holds_no_write_lock(fresh_workspace):
    collector = WaitingCollector()
    run = in_thread(run_collector, fresh_workspace, collector)
    try:
        assert collector.waiting.wait(5)
        write_from_another_connection(fresh_workspace)          # "database is locked" before the fix
        deadline = time.monotonic() + 5
        reader = connect(fresh_workspace.root, fresh_workspace.settings)
        while not reader.execute("SELECT 1 FROM item WHERE source_id = 'one'").fetchone():
            assert time.monotonic() < deadline, "the first post was not committed while the collector waited"
            time.sleep(0.02)
        reader.close()
    finally:
        collector.go.set()
        run.join(10)
    assert fresh_workspace.conn.execute("SELECT count(*) FROM item").fetchone()[0] == 2


def test_an_analyzer_computing_holds_no_write_lock(fresh_workspace, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("text")
    Archive(fresh_workspace, "test", "1").register_media(fresh_workspace.media.put_file(path), path.name)
    analyzer = WaitingAnalyzer()
    run = in_thread(run_analysis, fresh_workspace, [analyzer])
    try:
        assert analyzer.computing.wait(5)
        write_from_another_connection(fresh_workspace)          # "database is locked" before the fix
    finally:
        analyzer.go.set()
        run.join(10)
    assert fresh_workspace.conn.execute("SELECT status FROM analysis").fetchall() == [("done",)]
