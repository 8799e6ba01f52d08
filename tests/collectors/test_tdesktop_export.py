"""Telegram Desktop exports: formats, idempotency, edits, missing media, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import channel_export, jpeg_bytes, message, write_export


def test_channel_export_archives_posts_media_and_placeholders(run_json, fresh_workspace, tmp_path):
    export = channel_export(tmp_path / "export")
    report = run_json("ingest", "tdesktop", str(export))
    assert report == {"items": 7, "duplicates": 0, "updated": 0, "media": 4, "media_missing": 1, "errors": []}
    conn = fresh_workspace.conn
    text, posted = conn.execute("SELECT text, posted_at FROM item WHERE source_id = '777/2'").fetchone()
    assert text == "Смотрите https://example.org/v видео"
    assert posted == "2024-03-01T09:02:00+00:00"
    assert conn.execute("SELECT forwarded_from FROM item WHERE source_id='777/5'").fetchone()[0] == "Другой канал"
    assert conn.execute("SELECT kind FROM item WHERE source_id='777/6'").fetchone()[0] == "service"
    links = conn.execute("SELECT i.source_id, im.role, im.status FROM item_media im JOIN item i ON i.id = im.item_id"
                         " ORDER BY i.id").fetchall()
    assert links == [("777/1", "photo", "stored"), ("777/2", "video", "stored"), ("777/3", "voice", "stored"),
                     ("777/4", "photo", "missing"), ("777/7", "round_video", "stored")]
    mimes = {row[0] for row in conn.execute("SELECT mime FROM media")}
    assert mimes == {"image/jpeg", "video/mp4", "audio/ogg"}
    for sha, path in conn.execute("SELECT sha256, path FROM media"):
        stored = fresh_workspace.path(path)
        assert stored.name.startswith(sha) and stored.parent.parent.name == sha[:2]
        assert not stored.stat().st_mode & 0o222, "originals are read-only"


def test_reingest_stores_nothing_twice(run_json, fresh_workspace, tmp_path):
    export = channel_export(tmp_path / "export")
    run_json("ingest", "tdesktop", str(export))
    files_before = sorted(p.name for p in (fresh_workspace.root / "media").rglob("*") if p.is_file())
    again = run_json("ingest", "tdesktop", str(export))
    assert again["items"] == 0 and again["duplicates"] == 7 and again["media"] == 0
    counts = [fresh_workspace.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("item", "item_version", "media", "item_media")]
    assert counts == [7, 7, 4, 5]
    assert sorted(p.name for p in (fresh_workspace.root / "media").rglob("*") if p.is_file()) == files_before


def test_account_export_with_chats_list(run_json, tmp_path):
    export = write_export(tmp_path / "full", [message(1, "один"), message(2, "два")], account=True)
    assert run_json("ingest", "tdesktop", str(export))["items"] == 2


def test_edit_keeps_every_version(run_json, fresh_workspace, tmp_path):
    export = write_export(tmp_path / "e", [message(1, "Первая версия")])
    run_json("ingest", "tdesktop", str(export))
    write_export(tmp_path / "e", [message(1, "Исправленная версия", edited="2024-03-02T10:00:00",
                                          edited_unixtime="1709373600")])
    report = run_json("ingest", "tdesktop", str(export))
    assert report["updated"] == 1
    versions = fresh_workspace.conn.execute(
        "SELECT text, event, edited_at FROM item_version ORDER BY id").fetchall()
    assert versions == [("Первая версия", "seen", None),
                        ("Исправленная версия", "edited", "2024-03-02T10:00:00+00:00")]
    assert fresh_workspace.conn.execute("SELECT text FROM item").fetchone()[0] == "Исправленная версия"


def test_path_outside_export_is_refused(run_json, fresh_workspace, tmp_path):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg_bytes(5))
    export = write_export(tmp_path / "x", [message(1, "a", photo="../secret.jpg"),
                                           message(2, "b", photo="/etc/passwd")])
    report = run_json("ingest", "tdesktop", str(export))
    assert report["items"] == 2 and report["media"] == 0
    assert [e["error"] for e in report["errors"]] == ["refused: the path resolves outside the export folder"] * 2
    assert fresh_workspace.conn.execute("SELECT count(*) FROM media").fetchone()[0] == 0


def test_truncated_json_salvages_complete_messages(run_json, tmp_path):
    export = write_export(tmp_path / "t", [message(i, f"сообщение {i}") for i in range(1, 6)])
    raw = (export / "result.json").read_text(encoding="utf-8")
    (export / "result.json").write_text(raw[: raw.index("сообщение 4") + 3], encoding="utf-8")
    report = run_json("ingest", "tdesktop", str(export))
    assert report["items"] == 3
    assert "not valid JSON" in report["errors"][0]["error"] and "salvaged 3" in report["errors"][0]["error"]


def test_bad_media_files_are_reported_and_the_rest_ingested(run_json, fresh_workspace, tmp_path):
    export = write_export(
        tmp_path / "b",
        [message(1, "пустой", file="video_files/empty.mp4", media_type="video_file"),
         message(2, "не видео", file="video_files/fake.mp4", media_type="video_file"),
         message(3, "нормальное фото", photo="photos/ok.jpg"),
         message(4, "новое поле", some_future_field=1)],
        files={"video_files/empty.mp4": b"", "video_files/fake.mp4": b"<html>not a video</html>",
               "photos/ok.jpg": jpeg_bytes(3)},
    )
    report = run_json("ingest", "tdesktop", str(export))
    errors = {e["where"]: e["error"] for e in report["errors"]}
    assert errors["video_files/empty.mp4"] == "empty file (0 bytes)"
    assert errors["video_files/fake.mp4"] == "content is text/html, not video"
    assert "unknown field 'some_future_field'" in errors["message 4"]
    assert report["items"] == 4 and report["media"] == 1
    assert [r[0] for r in fresh_workspace.conn.execute("SELECT mime FROM media")] == ["image/jpeg"]
    assert not list((fresh_workspace.root / "media").rglob(".tmp-*"))


def test_not_an_export_is_one_clear_error(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("ingest", "tdesktop", str(tmp_path / "empty"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": f"{tmp_path / 'empty'}: no result.json (export with format "
                                         "'Machine-readable JSON')"}
    assert "Traceback" not in result.output


@pytest.mark.shared_data
def test_shared_chatstyle_export(run_json, fresh_workspace, shared_data: Path):
    report = run_json("ingest", "tdesktop", str(shared_data / "telegram/desktop_export_json/chatstyle"))
    assert report["items"] == 12 and report["errors"] == []
    text = fresh_workspace.conn.execute("SELECT text FROM item WHERE source_id = '222/3'").fetchone()[0]
    assert text == "смотри https://example.com/a круто"
