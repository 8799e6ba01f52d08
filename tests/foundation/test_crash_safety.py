"""A crash mid-ingest (SIGKILL) loses nothing and duplicates nothing once rerun."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from svidok.foundation.workspace import Workspace
from tests.conftest import REPO
from tests.factories import message, write_export

N_FILES = 40
FILE_BYTES = 1_500_000


def _export(folder: Path) -> Path:
    files, messages = {}, []
    for i in range(1, N_FILES + 1):
        rel = f"files/document_{i}.bin"
        files[rel] = hashlib.sha256(str(i).encode()).digest() * (FILE_BYTES // 32)
        messages.append(message(i, f"пост {i}", file=rel, file_name=f"document_{i}.bin"))
    return write_export(folder, messages, files)


def _media_files(ws_path: Path) -> list[Path]:
    return [p for p in (ws_path / "media").rglob("*") if p.is_file()]


def _ingest(ws_path: Path, export: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "svidok.cli", "--workspace", str(ws_path), "ingest", "tdesktop",
                             str(export), "--json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_ingest_then_rerun_completes(tmp_path):
    export = _export(tmp_path / "export")
    ws_path = tmp_path / "ws"
    Workspace.create(ws_path).close()
    process = _ingest(ws_path, export)
    deadline = time.monotonic() + 60
    while len(_media_files(ws_path)) < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stored_at_kill = len([p for p in _media_files(ws_path) if not p.name.startswith(".tmp-")])
    assert 0 < stored_at_kill < N_FILES, "the kill must land mid-run"

    with Workspace.open(ws_path) as ws:  # every committed row points at a complete file
        for sha, rel in ws.conn.execute("SELECT sha256, path FROM media"):
            assert hashlib.sha256(ws.path(rel).read_bytes()).hexdigest() == sha

    rerun = _ingest(ws_path, export)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err

    with Workspace.open(ws_path) as ws:
        counts = {t: ws.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("item", "item_version", "media", "item_media")}
        assert counts == {"item": N_FILES, "item_version": N_FILES, "media": N_FILES, "item_media": N_FILES}
        assert ws.conn.execute("SELECT count(*) FROM item_media WHERE status != 'stored'").fetchone()[0] == 0
        files = _media_files(ws_path)
        assert len(files) == N_FILES and not any(p.name.startswith(".tmp-") for p in files)
        for sha, rel in ws.conn.execute("SELECT sha256, path FROM media"):
            assert hashlib.sha256(ws.path(rel).read_bytes()).hexdigest() == sha
        assert ws.audit.verify().ok
