"""The content-addressed store: streaming hash, atomic rename, read-only originals."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest

from svidok.foundation.store import ContentStore, StoreError, TooLarge
from tests.factories import jpeg_bytes


def test_put_stream_hashes_and_names_by_content(tmp_path):
    store = ContentStore(tmp_path / "media", tmp_path)
    data = jpeg_bytes(2)
    stored = store.put_stream([data[:10], data[10:]], "jpeg")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.relpath == f"media/{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}.jpg"
    assert (tmp_path / stored.relpath).read_bytes() == data
    assert store.put_bytes(data).already_present


def test_refusals_leave_no_file(tmp_path):
    store = ContentStore(tmp_path / "media", tmp_path, max_bytes=100)
    with pytest.raises(TooLarge):
        store.put_stream(iter([b"x" * 60, b"y" * 60]))
    with pytest.raises(StoreError, match="empty"):
        store.put_bytes(b"")
    with pytest.raises(StoreError, match="content is text/plain, not video"):
        ContentStore(tmp_path / "media", tmp_path).put_bytes(b"plain text", expect=("video",))
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


def test_interrupted_stream_leaves_no_half_file(tmp_path):
    store = ContentStore(tmp_path / "media", tmp_path)

    def broken():
        yield b"partial data"
        raise ConnectionError("download interrupted")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


def test_sweep_removes_only_abandoned_temp_files(tmp_path):
    import socket

    store = ContentStore(tmp_path / "media", tmp_path)
    (tmp_path / "media").mkdir()
    host = socket.gethostname().replace("-", "_")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    files = {
        "dead writer": f".tmp-{host}-{dead.stdout.strip()}-x1",     # its process is gone
        "old, other host": ".tmp-elsewhere-1-x2",                    # untouched for two days
        "old, unreadable name": ".tmp-abc",
        "live writer": f".tmp-{host}-{os.getpid()}-x3",              # this process: still writing
        "recent, other host": ".tmp-elsewhere-1-x4",                 # maybe still writing there
    }
    for name in files.values():
        (tmp_path / "media" / name).write_bytes(b"half")
    two_days_ago = time.time() - 2 * 24 * 3600
    for key in ("old, other host", "old, unreadable name"):
        os.utime(tmp_path / "media" / files[key], (two_days_ago, two_days_ago))
    assert store.sweep_temp() == 3
    left = {p.name for p in (tmp_path / "media").iterdir()}
    assert left == {files["live writer"], files["recent, other host"]}


SLOW_WRITER = """
import sys, time
from pathlib import Path
from svidok.foundation.store import ContentStore

def chunks():
    for _ in range(6):
        yield b"x" * 1000
        time.sleep(0.25)

root = Path(sys.argv[1])
print("started", flush=True)
print(ContentStore(root / "media", root).put_stream(chunks(), "bin").sha256, flush=True)
"""


def test_opening_a_workspace_keeps_another_process_temp_file(tmp_path):
    """`svidok collect --all` from cron writing while an analyst opens the workspace."""
    from svidok.foundation.workspace import Workspace

    Workspace.create(tmp_path).close()
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 10
    while not list((tmp_path / "media").glob(".tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    Workspace.open(tmp_path).close()                  # sweeps the store while the other process writes
    out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err
    assert len(out.strip()) == 64
