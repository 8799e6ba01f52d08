"""collectors.tme_parse on the shared t.me/s snippets and on small hand-written pages."""

from __future__ import annotations

import json
import re

import pytest
from parsel import Selector

from svidok.collectors.tme_parse import TmePost, parse_media, parse_page, parse_views


@pytest.mark.parametrize("shown, views", [("2", 2), ("1.2K", 1200), ("436.6K", 436600), ("3.1M", 3100000),
                                          ("", None), ("many", None)])
def test_views(shown, views):
    assert parse_views(shown) == views


def _post(body: str, meta: str = "", cls: str = "") -> TmePost:
    html = (f'<div class="tgme_widget_message {cls}" data-post="chan/5"><div class="tgme_widget_message_bubble">'
            f'{body}<span class="tgme_widget_message_meta">{meta}<a class="tgme_widget_message_date">'
            f'<time datetime="2024-01-02T03:04:05+02:00"></time></a></span></div></div>')
    page = parse_page(html)
    assert page.problems == []
    return page.posts[0]


def test_text_keeps_line_breaks_and_links():
    post = _post('<div class="tgme_widget_message_text">Полонений:<br/>  Іван   <b>Петренко</b><br/>'
                 '<a href="https://example.org/x">джерело</a> <a href="?q=%23tag">#tag</a></div>')
    assert post.text == "Полонений:\nІван Петренко\nджерело #tag"
    assert post.links == ["https://example.org/x", "https://t.me/s/chan?q=%23tag"]
    assert (post.posted_at, post.url, post.edited) == ("2024-01-02T01:04:05+00:00", "https://t.me/chan/5", False)


def test_signature_edited_and_documents():
    post = _post('<a class="tgme_widget_message_document_wrap"><div class="tgme_widget_message_document_title">'
                 'a.pdf</div></a>', meta='<span class="tgme_widget_message_from_author">Автор</span>, edited ')
    assert (post.author, post.edited) == ("Автор", True)
    assert [(m.role, m.url, m.note) for m in post.media] == [("file", None, "a.pdf")]


def test_post_without_id_is_a_problem_not_a_crash():
    page = parse_page('<div class="tgme_widget_message" data-post="chan/"></div><div class="tme_no_messages_found">')
    assert page.posts == [] and page.says_no_posts and "data-post" in page.problems[0]


def test_numbers_out_of_range_are_problems_of_their_post():
    huge = "9" * 30

    def post(number: str, inner: str = "", when: str = "2024-01-02T03:04:05+02:00") -> str:
        return (f'<div class="tgme_widget_message" data-post="chan/{number}">{inner}'
                f'<a class="tgme_widget_message_date">'
                f'<time datetime="{when}"></time></a></div>')

    page = parse_page(post(huge) + post("6", f'<span class="tgme_widget_message_views">{huge}K</span>')
                      + post("5", f'<a class="tgme_widget_message_reply" href="https://t.me/chan/{huge}"></a>')
                      + post("4", when="9999-12-31T23:00:00-03:00") + post("３") + post("2147483648")
                      + post("7" * 5000) + post("3", '<span class="tgme_widget_message_views">2.1M</span>'))
    assert [(p.id, p.views) for p in page.posts] == [(3, 2_100_000)]
    assert len(page.problems) == 7, page.problems
    for problem, words in zip(page.problems, ["post id", "view count", "reply id", "date", "not a number",
                                              "out of range (1..2147483647)", "post id 777"]):
        assert words in problem and len(problem) < 200, problem


def test_round_trip_through_json():
    post = _post('<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'//cdn/x.jpg\')"></a>')
    again = TmePost.from_dict(json.loads(json.dumps(post.as_dict())))
    assert again == post and again.media[0].url == "https://cdn/x.jpg"


@pytest.mark.shared_data
def test_tchan_ground_truth_fields_all_correct(shared_data):
    folder = shared_data / "telegram" / "tme_s_tchan"
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    checked = 0
    for case in truth["cases"]:
        want = case["expected"]
        if not isinstance(want, dict) or want.get("__call__") != "ChannelMessage":
            continue
        post = parse_page((folder / case["fixture"]).read_text(encoding="utf-8")).posts[0]
        where = case["fixture"]
        assert (post.id, post.posted_at, post.views, post.edited, post.author) == \
            (want["id"], want["created_at"], want["views"], want["edited"], want["author"]), where
        # tchan puts every text node on its own line; the words and their order must be identical
        assert re.sub(r"\s+", "", post.text) == re.sub(r"\s+", "", want["text"] or ""), where
        checked += 1
    assert checked == 30


@pytest.mark.shared_data
def test_any2feed_fragments_parse(shared_data):
    folder = shared_data / "telegram" / "tme_s_any2feed"
    found = {}
    for path in sorted(folder.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        page = parse_page(html)
        assert page.problems == [], path.name
        found[path.stem] = [m.role for p in page.posts for m in p.media] or [m.role for m in
                                                                             parse_media(Selector(text=html))]
    assert len(found) == 20
    assert found["media_video_too_big"] == ["video", "video_thumbnail"]
    assert found["message_voice"] == ["voice"]
    assert found["media_cicrle_video"] == ["round_video"]
    assert found["message_media_photo_and_video"] == ["video", "photo", "photo"]  # page order
