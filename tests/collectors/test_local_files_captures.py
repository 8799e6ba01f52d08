"""The same bytes saved from two channels are two captures of one media file, not an edit."""

from __future__ import annotations

from svidok.foundation.archive import captures
from tests.factories import jpeg_bytes


def test_same_file_from_another_source_is_another_capture(run_json, fresh_workspace, tmp_path) -> None:
    (tmp_path / "first.jpg").write_bytes(jpeg_bytes(3))
    (tmp_path / "second.jpg").write_bytes(jpeg_bytes(3))
    first = run_json("ingest", "files", str(tmp_path / "first.jpg"), "--source-url", "https://t.me/rybar/10",
                     "--note", "saved from rybar")
    second = run_json("ingest", "files", str(tmp_path / "second.jpg"), "--source-url", "https://t.me/wargonzo/7",
                      "--note", "the same photo on wargonzo")
    assert first[0]["media_sha256"] == second[0]["media_sha256"]
    conn = fresh_workspace.conn
    assert conn.execute("SELECT count(*) FROM media").fetchone()[0] == 1
    assert conn.execute("SELECT url, text FROM item ORDER BY id").fetchall() == [
        ("https://t.me/rybar/10", "saved from rybar"), ("https://t.me/wargonzo/7", "the same photo on wargonzo")]
    assert conn.execute("SELECT count(*) FROM item_version WHERE event = 'edited'").fetchone()[0] == 0
    found = captures(fresh_workspace, first[0]["media_sha256"])
    assert [(c.url, c.note) for c in found] == [("https://t.me/rybar/10", "saved from rybar"),
                                                ("https://t.me/wargonzo/7", "the same photo on wargonzo")]


def test_same_file_from_the_same_source_is_stored_once(run_json, fresh_workspace, tmp_path) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(4))
    for _ in range(2):
        run_json("ingest", "files", str(tmp_path / "a.jpg"), "--source-url", "https://t.me/rybar/10", "--note", "n")
    assert fresh_workspace.conn.execute("SELECT count(*), count(DISTINCT source_id) FROM item").fetchone() == (1, 1)
    assert fresh_workspace.conn.execute("SELECT count(*) FROM item_version").fetchone()[0] == 1
