"""`svidok ingest files`: folders recursively, duplicates, rejections with reasons."""

from __future__ import annotations

from tests.factories import jpeg_bytes, mp4_bytes


def test_ingest_folder_recursively_with_provenance(run_json, fresh_workspace, tmp_path):
    (tmp_path / "in/sub").mkdir(parents=True)
    (tmp_path / "in/a.jpg").write_bytes(jpeg_bytes(1))
    (tmp_path / "in/sub/clip.mp4").write_bytes(mp4_bytes())
    (tmp_path / "in/sub/copy-of-a.jpeg").write_bytes(jpeg_bytes(1))
    (tmp_path / "in/notes.mp4").write_text("this is a text file posing as a video")
    (tmp_path / "in/empty.jpg").write_bytes(b"")
    rows = run_json("ingest", "files", str(tmp_path / "in"), "--source-url", "https://t.me/c/5", "--note", "saved")
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in rows}
    assert by_name["a.jpg"]["status"] == "new"
    assert by_name["clip.mp4"]["status"] == "new"
    assert by_name["copy-of-a.jpeg"]["status"] == "duplicate"
    assert by_name["copy-of-a.jpeg"]["media_sha256"] == by_name["a.jpg"]["media_sha256"]
    assert by_name["notes.mp4"] == {"media_sha256": None, "path": str(tmp_path / "in/notes.mp4"),
                                    "status": "rejected", "reason": "not a photo, video or audio file "
                                    "(content is text/plain)"}
    assert by_name["empty.jpg"]["reason"] == "empty file (0 bytes)"
    url, text = fresh_workspace.conn.execute("SELECT url, text FROM item LIMIT 1").fetchone()
    assert (url, text) == ("https://t.me/c/5", "saved")
    assert fresh_workspace.conn.execute("SELECT count(*) FROM media").fetchone()[0] == 2


def test_nothing_ingestable_exits_non_zero(run_cli, tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    result = run_cli("ingest", "files", str(tmp_path / "x.txt"), str(tmp_path / "missing.jpg"), "--json")
    assert result.exit_code == 1
    assert "no such file or folder" in result.stdout
