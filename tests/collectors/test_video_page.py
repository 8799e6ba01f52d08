"""`collect video` end to end against a local site on 127.0.0.1 (real Chromium, real media).

The site serves a page with an MP4 in a <video> tag, a page whose player fetches an HLS
playlist from JavaScript (segments made here with PyAV from a generated clip with audio),
and pages that fail (404, never loads, truncated download). Range requests are supported.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import av
import pytest

from svidok.collectors.hls import DownloadError, Fetch, download, resolve_playlist
from svidok.collectors.sources import Source
from svidok.pipeline import CollectReport, collect_sources, merged_report
from tests.collectors.fake_tme_server import ForwardingProxy
from tests.collectors.video_site import CHROMIUM, DURATION, VTT, Site, make_site

needs_chromium = pytest.mark.skipif(not CHROMIUM.is_file(), reason="/usr/bin/chromium is absent "
                                    "(apt-get install -y chromium; .ci/run installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    served = make_site(tmp_path_factory.mktemp("site"))
    yield served
    served.server.shutdown()


@pytest.fixture
def options(fresh_workspace) -> dict:
    """Test-sized collection settings (the keyword arguments of `collect_videos`)."""
    return {"page_timeout_s": 10, "download_timeout_s": 10, "retries": 1}


def collect_videos(ws, urls: list[str], options: dict, browser_only: bool = False) -> CollectReport:
    """`svidok collect video` through the runner every collect command uses, with these settings."""
    ws.settings = dataclasses.replace(ws.settings, collect=dataclasses.replace(ws.settings.collect, **options))
    return merged_report(collect_sources(ws, [Source("video", url, browser_only=browser_only) for url in urls]))


def stored(ws, url: str) -> tuple[dict, dict[str, Path]]:
    import json

    raw = json.loads(ws.conn.execute("SELECT raw FROM item WHERE source_id = ?", (url,)).fetchone()[0])
    media = {role: ws.path(path) for role, path in ws.conn.execute(
        "SELECT im.role, m.path FROM item_media im JOIN item i ON i.id = im.item_id JOIN media m"
        " ON m.sha256 = im.media_sha256 WHERE i.source_id = ?", (url,))}
    return raw, media


def assert_clip(path: Path) -> None:
    with av.open(str(path)) as container:
        kinds = {s.type for s in container.streams}
        frames = sum(1 for _ in container.decode(video=0))
        duration = container.duration / av.time_base
    assert kinds >= {"video", "audio"}
    assert abs(duration - DURATION) < 0.25 and abs(frames - DURATION * 25) <= 2


@needs_chromium
@pytest.mark.browser
def test_hls_page_goes_through_browser_and_stays_local(fresh_workspace, site, options):
    url = f"{site.base}/hls.html"
    report = collect_videos(fresh_workspace, [url], options)
    assert (report.items, report.errors) == (1, [])
    raw, media = stored(fresh_workspace, url)
    assert raw["method"] == "browser" and raw["stream_kind"] == "hls" and raw["segments"] == 3
    assert set(media) == {"video", "screenshot", "html"}
    assert_clip(media["video"])
    assert media["screenshot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Пленные HLS" in media["html"].read_text() and "3 segments" in media["html"].read_text()
    assert raw["requests"] and all(r.startswith(f"{site.base}/") for r in raw["requests"])
    assert not any((fresh_workspace.root / "downloads" / "video").iterdir())
    again = collect_videos(fresh_workspace, [url], options)
    assert again.items == 0 and again.errors == []


@needs_chromium
@pytest.mark.browser
def test_mp4_page_with_ytdlp_and_with_the_browser(fresh_workspace, site, options):
    url = f"{site.base}/mp4.html"
    report = collect_videos(fresh_workspace, [url], options)
    assert (report.items, report.errors) == (1, [])
    raw, media = stored(fresh_workspace, url)
    assert_clip(media["video"])
    assert raw["method"] == "yt-dlp"                  # its generic extractor reads <video> and <track>
    assert raw["extractor"] and raw["format_id"] and raw["yt_dlp_version"] and raw["subtitles"] == ["ru"]
    assert media["subtitles"].read_bytes() == VTT
    other = f"{site.base}/mp4.html?via=browser"
    assert collect_videos(fresh_workspace, [other], options, browser_only=True).errors == []
    raw, media = stored(fresh_workspace, other)
    assert raw["method"] == "browser" and raw["stream_kind"] == "file"
    assert_clip(media["video"])


@needs_chromium
@pytest.mark.browser
def test_bad_pages_fail_clearly_and_a_cut_download_resumes(fresh_workspace, site, options):
    missing = collect_videos(fresh_workspace, [f"{site.base}/nothing.html", "ftp://x/y"], options)
    assert missing.items == 0 and "HTTP 404" in missing.errors[0]["error"]
    assert "not an http(s) URL" in missing.errors[1]["error"]
    fast = {**options, "page_timeout_s": 2}
    started = time.monotonic()
    slow = collect_videos(fresh_workspace, [f"{site.base}/slow"], fast, browser_only=True)
    assert "did not load within 2 s" in slow.errors[0]["error"] and time.monotonic() - started < 15
    url = f"{site.base}/cut.html"
    cut = collect_videos(fresh_workspace, [url], options, browser_only=True)
    assert cut.items == 0 and "truncated" in cut.errors[0]["error"]
    assert fresh_workspace.conn.execute("SELECT count(*) FROM item WHERE source_id = ?", (url,)).fetchone()[0] == 0
    resumed = collect_videos(fresh_workspace, [url], options, browser_only=True)
    assert (resumed.items, resumed.errors) == (1, [])
    ranges = [r for p, r in site.log if p == "/media/cut.mp4" and r]
    half = len(site.files["/media/cut.mp4"][0]) // 2
    assert f"bytes={half}-" in ranges
    assert_clip(stored(fresh_workspace, url)[1]["video"])


def test_cli_reports_bad_urls_as_json(fresh_workspace):
    import json

    from click.testing import CliRunner

    from svidok.cli.collect import video as video_command

    result = CliRunner().invoke(video_command, ["ftp://example/x", "--workspace", str(fresh_workspace.root), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [{"where": "ftp://example/x", "error": "not an http(s) URL: ftp://example/x"}]
    assert "Example:" in video_command.help


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections made to it (an ftp:// "server")."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def test_playlists_naming_other_schemes_are_refused_before_any_download(site, tmp_path):
    secret = tmp_path / "secret.ts"
    secret.write_bytes(site.files["/hls/seg000.ts"][0])
    bad = {"/bad/segment.m3u8": f"#EXTM3U\n#EXTINF:1.0,\n/hls/seg000.ts\n#EXTINF:1.0,\n{secret.as_uri()}\n",
           "/bad/variant.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=160x120\nfile:///etc/passwd\n",
           "/bad/map.m3u8": '#EXTM3U\n#EXT-X-MAP:URI="file:///etc/passwd"\n#EXTINF:1.0,\n/hls/seg000.ts\n',
           "/bad/key.m3u8": '#EXTM3U\n#EXT-X-KEY:METHOD=NONE,URI="data:text/plain,x"\n#EXTINF:1.0,\n/hls/seg000.ts\n',
           "/bad/inf.m3u8": "#EXTM3U\n#EXTINF:inf,\n/hls/seg000.ts\n"}
    for path, text in bad.items():
        site.files[path] = (text.encode(), "application/vnd.apple.mpegurl")
    before = len(site.log)
    for path in bad:
        why = "out of range" if "inf" in path else r"not an http\(s\) URL"
        with pytest.raises(DownloadError, match=why):
            resolve_playlist(f"{site.base}{path}", Fetch(retries=1))
    assert {p for p, _ in site.log[before:]} == set(bad), "only the playlists themselves were fetched"
    with pytest.raises(DownloadError, match=r"not an http\(s\) URL"):
        download(secret.as_uri(), tmp_path / "copy.ts", Fetch(retries=1))
    assert not list(tmp_path.glob("copy*"))


def test_downloads_go_through_the_configured_proxy(site, tmp_path):
    proxy = ForwardingProxy()
    try:
        clip = download(f"{site.base}/media/clip.mp4", tmp_path / "clip.mp4", Fetch(retries=1, proxy=proxy.url))
        playlist = resolve_playlist(f"{site.base}/hls/index.m3u8", Fetch(retries=1, proxy=proxy.url))
    finally:
        proxy.stop()
    assert clip.read_bytes() == site.files["/media/clip.mp4"][0] and len(playlist.segments) == 3
    assert proxy.seen == [f"{site.base}/media/clip.mp4", f"{site.base}/hls/index.m3u8"] and proxy.refused == []


def test_a_proxy_setting_that_cannot_work_stops_the_collector(fresh_workspace, site, options):
    before = len(site.log)
    report = collect_videos(fresh_workspace, [f"{site.base}/mp4.html"], {**options, "proxy": "tor:9050"})
    assert report.items == 0 and "collect.proxy 'tor:9050'" in report.errors[0]["error"]
    assert site.log[before:] == [], "nothing went out directly"


@needs_chromium
@pytest.mark.browser
def test_a_page_pointing_yt_dlp_elsewhere_than_http_gets_nothing(fresh_workspace, site, options):
    ftp = Listener()
    site.files["/ftp.html"] = (f'<html><head><title>ftp</title></head><body><video src="ftp://127.0.0.1:{ftp.port}'
                               f'/clip.mp4"></video></body></html>'.encode(), "text/html")
    report = collect_videos(fresh_workspace, [f"{site.base}/ftp.html"], {**options, "page_timeout_s": 3})
    ftp.sock.close()
    assert report.items == 0 and "no video found" in report.errors[0]["error"]
    assert f"refused 'ftp://127.0.0.1:{ftp.port}/clip.mp4': not an http(s) URL" in report.errors[0]["error"]
    assert ftp.connections == 0, "yt-dlp or the browser connected to the ftp:// URL"


@needs_chromium
@pytest.mark.browser
def test_video_pages_go_through_the_configured_proxy(fresh_workspace, site, options):
    proxy = ForwardingProxy()
    through = {**options, "proxy": proxy.url}
    try:
        by_ytdlp = collect_videos(fresh_workspace, [f"{site.base}/mp4.html?via=proxy"], through)
        by_browser = collect_videos(fresh_workspace, [f"{site.base}/hls.html?via=proxy"], through, browser_only=True)
    finally:
        proxy.stop()
    assert (by_ytdlp.items, by_ytdlp.errors, by_browser.items, by_browser.errors) == (1, [], 1, [])
    assert stored(fresh_workspace, f"{site.base}/mp4.html?via=proxy")[0]["method"] == "yt-dlp"
    wanted = {"/mp4.html?via=proxy", "/media/clip.mp4", "/media/clip.ru.vtt",                   # yt-dlp
              "/hls.html?via=proxy", "/hls/index.m3u8", "/hls/seg000.ts", "/hls/seg002.ts"}    # Chromium, hls.py
    assert {f"{site.base}{path}" for path in wanted} <= set(proxy.seen)
    # Chromium's own calls home (accounts.google.com, update.googleapis.com) go through the proxy too
    hosts = {(urlsplit(r).hostname if "://" in r else r.rpartition(":")[0]) for r in proxy.refused}
    assert all(h.endswith((".google.com", ".googleapis.com")) for h in hosts), proxy.refused
