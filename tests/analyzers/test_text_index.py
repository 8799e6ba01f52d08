"""Full-text search: Russian/Ukrainian word forms, posts and transcripts, kept in sync by triggers."""

from __future__ import annotations

import json

import pytest

from svidok.analyzers.text_index import fts_query, search, sync
from svidok.foundation.archive import Archive, ItemRecord
from svidok.foundation.text import stem


def add_segment(ws, text: str, start: float = 12.5, sha: str = "ab" * 32) -> int:  # noqa: ANN001
    ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, first_seen, path)"
                    " VALUES (?, 1, 'video/mp4', 'mp4', 'now', 'media/x.mp4') ON CONFLICT DO NOTHING", (sha,))
    return ws.conn.execute("INSERT INTO transcript_segment (media_sha256, start_s, end_s, text, language, model,"
                           " model_version) VALUES (?, ?, ?, ?, 'ru', 'm', '1') RETURNING id",
                           (sha, start, start + 3, text)).scalar_one()


@pytest.mark.parametrize(("forms"), [
    ("Петренко", "Петренка", "Петренкові"),
    ("бригада", "бригады", "бригаду"),
    ("Мариуполь", "Мариуполя", "Мариуполе"),
    ("морская", "морской", "морскую"),
])
def test_word_forms_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem(f) for f in forms}) == 1
    assert stem("Ёлка") == stem("елка") and stem("п’ять") == stem("пять")


def test_every_query_word_is_a_required_prefix() -> None:
    assert fts_query('Петренко "в плену"') == '"петренк"* "в"* "плен"*'
    assert fts_query("  ,. ") is None


def test_search_finds_posts_and_transcripts_in_other_word_forms(fresh_workspace) -> None:
    ws = fresh_workspace
    archive = Archive(ws, "test", "1")
    post = archive.save_item(ItemRecord("files", "p1", text="Пленный Петренко из 36-й бригады морской пехоты")).item_id
    archive.save_item(ItemRecord("files", "p2", text="Погода в Харькове"))
    add_segment(ws, "Меня зовут Петренка Алексей, я нахожусь в плену")
    hits = search(ws.conn, "Петренко")
    assert {(h.kind, h.item_id if h.kind == "post" else h.start_s) for h in hits} == {("post", post),
                                                                                     ("transcript", 12.5)}
    transcript = next(h for h in hits if h.kind == "transcript")
    assert transcript.media_sha256 == "ab" * 32 and "[Петренка]" in transcript.snippet
    assert [h.kind for h in search(ws.conn, "в плену")] == ["transcript"]
    assert [h.item_id for h in search(ws.conn, "Харькова")] == [archive.save_item(
        ItemRecord("files", "p2", text="Погода в Харькове")).item_id]
    assert search(ws.conn, "Сидоренко") == []
    assert json.dumps([h.as_dict() for h in hits], ensure_ascii=False)


def test_index_follows_edits_and_deletions(fresh_workspace) -> None:
    ws = fresh_workspace
    archive = Archive(ws, "test", "1")
    archive.save_item(ItemRecord("files", "p1", text="Пленный Петренко"))
    segment = add_segment(ws, "Я нахожусь в плену")
    assert len(search(ws.conn, "плен")) == 2
    archive.save_item(ItemRecord("files", "p1", text="Текст исправлен"))              # an edit at the source
    ws.conn.execute("DELETE FROM transcript_segment WHERE id = ?", (segment,))       # --reanalyze clears
    assert search(ws.conn, "плен") == []
    assert [h.kind for h in search(ws.conn, "исправлено")] == ["post"]
    assert sync(ws.conn) == 0


def test_cli_search_json(fresh_workspace, run_json) -> None:
    Archive(fresh_workspace, "test", "1").save_item(ItemRecord("files", "p1", text="Военнопленные из Мариуполя"))
    add_segment(fresh_workspace, "я из Мариуполя", start=3.0)
    hits = run_json("search", "мариуполь", "--limit", "5")
    assert {h["kind"] for h in hits} == {"post", "transcript"}
    assert all(set(h) >= {"kind", "item_id", "media_sha256", "start_s", "snippet"} for h in hits)
    assert run_json("search", "Одесса") == []
