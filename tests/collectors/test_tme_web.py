"""`svidok collect telegram-web` against a generated channel served on 127.0.0.1 (real Scrapy crawl)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from svidok.foundation.settings import load_settings
from svidok.foundation.workspace import connect

from svidok.collectors.sources import Source
from svidok.collectors.tme_spider import CrawlJob, scrapy_settings
from svidok.pipeline import collect_sources, merged_report
from tests.collectors.fake_tme_server import FakeTelegram, ForwardingProxy, Guard, jpeg
from tests.conftest import REPO

ALL_ITEMS, ALL_MEDIA, ALL_LINKS = 29, 8, 11


@pytest.fixture
def guard(monkeypatch):
    """Route every request for another host to a refusing proxy; the test fails if any arrives."""
    proxy = Guard()
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("SVIDOK_COLLECT_RETRIES", "1")
    monkeypatch.setenv("SVIDOK_COLLECT_DOWNLOAD_TIMEOUT_S", "2")
    yield proxy
    proxy.stop()


@pytest.fixture
def site(guard):
    fake = FakeTelegram()
    fake.start()
    yield fake
    fake.stop()
    assert guard.seen == [], f"requests left 127.0.0.1: {guard.seen}"


def counts(ws: Path) -> dict[str, int]:
    conn = connect(ws, load_settings(ws))
    found = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("item", "media", "item_media")}
    found["files"] = sum(1 for p in (ws / "media").rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
    found["temp_files"] = sum(1 for p in (ws / "media").rglob(".tmp-*"))
    conn.close()
    return found


def collect(run_json, site: FakeTelegram, *extra: str) -> dict:
    return run_json("collect", "telegram-web", "testchan", "--base-url", site.base, *extra)


def test_collects_posts_media_and_pages(fresh_workspace, run_json, site, guard):
    report = collect(run_json, site)
    assert (report["items"], report["media"], report["errors"]) == (ALL_ITEMS, ALL_MEDIA, [])
    assert {"/s/testchan", "/s/testchan?before=21", "/s/testchan?before=11"} <= set(site.requests)
    assert not [r for r in site.requests if r.startswith(("/article", "/other", "/testchan/", "/1", "/2"))]
    conn = fresh_workspace.conn
    row = conn.execute("SELECT url, posted_at, views, author, text, raw FROM item WHERE source_id = 'testchan/30'").fetchone()
    assert row[:5] == ("https://t.me/testchan/30", "2024-03-04T07:00:00+00:00", 1200, "Іван Петренко",
                       "Пост номер 30\nдруга строка посилання")
    assert json.loads(row[5])["links"] == [f"{site.base}/30"]
    sha_a = hashlib.sha256(site.media["A.jpg"]).hexdigest()
    linked = conn.execute("SELECT i.source_id, m.role, m.status FROM item_media m JOIN item i ON i.id = m.item_id"
                          " WHERE m.media_sha256 = ? ORDER BY i.source_id", (sha_a,)).fetchall()
    assert linked == [("testchan/25", "photo", "stored"), ("testchan/30", "photo", "stored")]
    assert (fresh_workspace.root / conn.execute("SELECT path FROM media WHERE sha256 = ?", (sha_a,)).fetchone()[0]
            ).read_bytes() == site.media["A.jpg"]
    agg = conn.string_agg("m.role || ':' || m.status", ",")
    statuses = dict(conn.execute(f"SELECT i.source_id, {agg} FROM item_media m"
                                 " JOIN item i ON i.id = m.item_id GROUP BY i.id").fetchall())
    assert statuses["testchan/27"] == "file:not-in-preview"
    assert sorted(statuses["testchan/26"].split(",")) == ["video:not-in-preview", "video_thumbnail:stored"]
    assert statuses["testchan/28"] == "voice:stored"
    kinds = dict(conn.execute("SELECT source_id, kind FROM item WHERE source_id IN ('testchan/23', 'testchan/22')"))
    assert kinds == {"testchan/22": "post", "testchan/23": "service"}
    assert conn.execute("SELECT forwarded_from FROM item WHERE source_id = 'testchan/22'").fetchone()[0] == \
        "Other channel"
    assert counts(fresh_workspace.root) == {"item": ALL_ITEMS, "media": ALL_MEDIA, "item_media": ALL_LINKS,
                                            "files": ALL_MEDIA, "temp_files": 0}


def test_rerun_stores_nothing_twice_and_keeps_edits(fresh_workspace, run_json, site):
    collect(run_json, site)
    before = counts(fresh_workspace.root)
    site.requests.clear()
    site.posts[28].text, site.posts[28].edited = "Виправлений текст", True
    again = collect(run_json, site)
    assert (again["items"], again["updated"], again["media"], again["errors"]) == (0, 1, 0, [])
    assert site.requests == ["/s/testchan"], "a rerun stops at known posts and does not download stored media again"
    assert counts(fresh_workspace.root) == before
    versions = fresh_workspace.conn.execute(
        "SELECT v.event, v.text FROM item_version v JOIN item i ON i.id = v.item_id"
        " WHERE i.source_id = 'testchan/28' ORDER BY v.id").fetchall()
    assert [v[0] for v in versions] == ["seen", "edited"] and versions[1][1] == "Виправлений текст"


def test_resumes_older_pages_after_a_short_run(fresh_workspace, run_json, site):
    first = collect(run_json, site, "--max-pages", "1")
    assert first["items"] == 10
    site.requests.clear()
    second = collect(run_json, site, "--max-pages", "3")
    assert second["items"] == ALL_ITEMS - 10
    pages = [r for r in site.requests if r.startswith("/s/")]
    assert pages == ["/s/testchan", "/s/testchan?before=21", "/s/testchan?before=11"]
    checkpoint = json.loads(fresh_workspace.conn.execute(
        "SELECT checkpoint FROM source_state WHERE source_key = 'telegram-web:testchan'").fetchone()[0])
    assert checkpoint == {"newest": 30, "oldest": 1, "reached_start": True}


def test_faults_are_reported_and_retried(fresh_workspace, run_json, site):
    site.fail_once |= {"/s/testchan", "A.jpg"}         # HTTP 500, then fine: retried
    site.truncate.add("B.jpg")                         # Content-Length larger than the body
    site.slow["C.jpg"] = 4                             # longer than the 2 s timeout
    report = collect(run_json, site)
    assert report["items"] == ALL_ITEMS
    errors = " | ".join(f"{e['where']}: {e['error']}" for e in report["errors"])
    assert len(report["errors"]) == 2, errors
    assert "testchan/15/0" in errors and "testchan/3/0" in errors
    assert "timed out" in errors and "download incomplete" in errors
    assert site.requests.count("/s/testchan") == 2
    assert counts(fresh_workspace.root)["files"] == ALL_MEDIA - 2
    assert counts(fresh_workspace.root)["temp_files"] == 0
    site.truncate.clear()
    site.slow.clear()
    fixed = collect(run_json, site, "--max-pages", "3")
    assert fixed["media"] == 2 and fixed["errors"] == []
    assert counts(fresh_workspace.root) == {"item": ALL_ITEMS, "media": ALL_MEDIA, "item_media": ALL_LINKS,
                                            "files": ALL_MEDIA, "temp_files": 0}


def test_malformed_pages_and_dead_hosts_give_clear_errors(fresh_workspace, run_json, site):
    site.pages["broken"] = "<html><body><div class='tgme_widget_message' data-post='broken/x'>%%<<</div"
    report = run_json("collect", "telegram-web", "broken", "--base-url", site.base, exit_code=1)  # nothing done
    assert report["items"] == 0
    assert [e["error"] for e in report["errors"]] == ["post without a usable data-post attribute ('broken/x')"]
    site.pages["notme"] = "<html><body>Hello</body></html>"
    report = run_json("collect", "telegram-web", "notme", "--base-url", site.base, exit_code=1)
    assert "no posts on the page" in report["errors"][0]["error"]
    dead = run_json("collect", "telegram-web", "testchan", "--base-url", "http://127.0.0.1:9", exit_code=1)
    assert dead["items"] == 0 and "page not fetched" in dead["errors"][0]["error"]
    assert counts(fresh_workspace.root)["item"] == 0


def test_guard_sees_requests_to_other_hosts(fresh_workspace, run_json, guard):
    """The check the other tests rely on: a request for a foreign host reaches the guard."""
    report = run_json("collect", "telegram-web", "testchan", "--base-url", "http://t.me.invalid", exit_code=1)
    assert report["items"] == 0 and report["errors"]
    assert any("t.me.invalid" in seen for seen in guard.seen)
    guard.seen.clear()


def test_kill_mid_download_then_rerun_loses_and_duplicates_nothing(fresh_workspace, workspace_path, site, tmp_path):
    site.stall["C.jpg"] = 30          # page 3's photo hangs half-sent: the run is killed there
    env = {**os.environ, "SVIDOK_WORKSPACE": str(workspace_path)}
    argv = [sys.executable, "-m", "svidok.cli", "collect", "telegram-web", "testchan", "--base-url", site.base, "--json"]
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not any(r.startswith("/file/C.jpg") for r in site.requests) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    interrupted = counts(workspace_path)
    assert interrupted["item"] < ALL_ITEMS
    site.stall.clear()
    rerun = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["errors"] == []
    assert counts(workspace_path) == {"item": ALL_ITEMS, "media": ALL_MEDIA, "item_media": ALL_LINKS,
                                      "files": ALL_MEDIA, "temp_files": 0}


def page_of(channel: str, posts: dict[str, str]) -> str:
    """A t.me/s page: one post per (number as written in data-post, inner HTML)."""
    body = "".join(f'<div class="tgme_widget_message" data-post="{channel}/{number}"><div class="tgme_widget_message_'
                   f'bubble">{inner}<div class="tgme_widget_message_text">post {number[:8]}</div></div></div>'
                   for number, inner in posts.items())
    return f"<html><body><section>{body}</section></body></html>"


def photo(url: str) -> str:
    return f'<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'{url}\')"></a>'


def media_rows(ws) -> dict[str, tuple[str, str, str | None]]:
    """source id -> (role, status, note) of each item's first medium."""
    return {sid: (role, status, note) for sid, role, status, note in ws.conn.execute(
        "SELECT i.source_id, m.role, m.status, m.note FROM item_media m JOIN item i ON i.id = m.item_id")}


def test_local_files_and_wrong_content_are_refused_not_archived(fresh_workspace, run_json, site, tmp_path):
    """A page naming file:///... (here a JPEG, so only the scheme rule can stop it) or serving HTML as a photo."""
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg((1, 2, 3)))
    site.pages["hostile"] = page_of("hostile", {"3": photo(secret.as_uri()), "2": photo(f"{site.base}/s/testchan"),
                                                "1": photo(f"{site.base}/file/A.jpg")})
    report = run_json("collect", "telegram-web", "hostile", "--base-url", site.base)
    assert report["items"] == 3 and report["media"] == 1
    rows = media_rows(fresh_workspace)
    assert rows["hostile/1"] == ("photo", "stored", None)
    assert rows["hostile/3"][:2] == ("photo", "rejected") and "not an http(s) URL" in rows["hostile/3"][2]
    assert rows["hostile/2"][:2] == ("photo", "rejected") and "text/html" in rows["hostile/2"][2]
    errors = " | ".join(e["error"] for e in report["errors"])
    assert "not an http(s) URL" in errors and "text/html" in errors
    stored = [p.read_bytes() for p in (fresh_workspace.root / "media").rglob("*") if p.is_file()]
    assert stored == [site.media["A.jpg"]] and secret.read_bytes() not in stored


def test_a_local_base_url_is_not_read(fresh_workspace, site, tmp_path):
    """A `[[source]]` whose base_url is file://: Scrapy must not read the local "page"."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "testchan").write_bytes(site.rewrite(site.page(None)))
    source = Source("telegram-web", "testchan", base_url=tmp_path.as_uri(), max_pages=1)
    report = merged_report(collect_sources(fresh_workspace, [source]))
    assert report.items == 0 and "not an http(s) URL" in report.errors[0]["error"]
    handlers = scrapy_settings(CrawlJob(site.base, "x", 1, str(tmp_path), "ua", 1, 1, 1))["DOWNLOAD_HANDLERS"]
    assert handlers == {"file": None, "data": None, "ftp": None, "s3": None}


def test_numbers_out_of_range_make_a_post_a_problem_and_the_rest_is_archived(fresh_workspace, run_json, site):
    huge = "999999999999999999999999999999"
    views = f'<span class="tgme_widget_message_views">{huge}</span>'
    reply = f'<a class="tgme_widget_message_reply" href="https://t.me/big/{huge}"></a>'
    site.pages["big"] = page_of("big", {huge: "", "4": views, "3": reply, "2": photo(f"{site.base}/file/B.jpg"),
                                        "1": ""})
    report = run_json("collect", "telegram-web", "big", "--base-url", site.base)
    assert (report["items"], report["media"]) == (2, 1)
    errors = [e["error"] for e in report["errors"]]
    assert len(errors) == 3 and all("out of range" in e for e in errors), errors
    assert any("post id" in e for e in errors) and any("view count" in e for e in errors)
    assert any("reply id" in e for e in errors)
    ids = {row[0] for row in fresh_workspace.conn.execute("SELECT source_id FROM item")}
    assert ids == {"big/2", "big/1"}


def test_the_crawl_goes_through_the_configured_proxy(fresh_workspace, run_json, site, monkeypatch):
    proxy = ForwardingProxy()
    monkeypatch.setenv("SVIDOK_COLLECT_PROXY", proxy.url)
    try:
        report = collect(run_json, site, "--max-pages", "1")
    finally:
        proxy.stop()
    assert (report["items"], report["errors"]) == (10, [])
    assert f"{site.base}/s/testchan" in proxy.seen and f"{site.base}/file/V.mp4?token=v" in proxy.seen
    assert sorted(site.requests) == sorted(url.removeprefix(site.base) for url in proxy.seen)
    assert proxy.refused == []


def test_a_socks_proxy_is_refused_loudly_not_ignored(fresh_workspace, run_json, site, monkeypatch):
    monkeypatch.setenv("SVIDOK_COLLECT_PROXY", "socks5://127.0.0.1:9050")
    report = run_json("collect", "telegram-web", "testchan", "--base-url", site.base, exit_code=1)
    assert report["items"] == 0 and "cannot use a SOCKS proxy" in report["errors"][0]["error"]
    assert site.requests == []
