"""The content-addressed store: streaming hash, atomic rename, read-only originals."""

from __future__ import annotations

import hashlib

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


def test_sweep_removes_leftover_temp_files(tmp_path):
    store = ContentStore(tmp_path / "media", tmp_path)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / ".tmp-abc").write_bytes(b"half")
    assert store.sweep_temp() == 1
