"""`collect video` end to end against a local site on 127.0.0.1 (real Chromium, real media).

The site serves a page with an MP4 in a <video> tag, a page whose player fetches an HLS
playlist from JavaScript (segments made here with PyAV from a generated clip with audio),
and pages that fail (404, never loads, truncated download). Range requests are supported.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest

from svidok.collectors.sources import Source
from svidok.pipeline import CollectReport, collect_sources, merged_report

DURATION = 3.0
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.is_file(), reason="/usr/bin/chromium is absent "
                                    "(apt-get install -y chromium; .ci/run installs it)")


def encode_clip(path: Path, fmt: str | None = None, options: dict[str, str] | None = None) -> None:
    """A DURATION-second 160x120 H.264 + AAC clip (a moving bar and a 440 Hz tone)."""
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        video = out.add_stream("libx264", rate=25, options={"g": "25", "keyint_min": "25", "sc_threshold": "0"})
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        audio = out.add_stream("aac", rate=44100)
        audio.layout = "mono"
        for i in range(int(DURATION * 25)):
            img = np.zeros((120, 160, 3), np.uint8)
            img[:, (i * 4) % 160:(i * 4) % 160 + 10] = 255
            out.mux(video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        samples = np.sin(2 * np.pi * 440 * np.arange(int(DURATION * 44100)) / 44100).astype(np.float32)
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 44100, start, Fraction(1, 44100)
            out.mux(audio.encode(frame))
        out.mux(video.encode())
        out.mux(audio.encode())


MP4_PAGE = b"""<!doctype html><html><head><title>Clip page</title></head>
<body><h1>News</h1><video controls src="/media/clip.mp4">
<track kind="subtitles" src="/media/clip.ru.vtt" srclang="ru" label="Russian"></video></body></html>"""
VTT = "WEBVTT\n\n00:00.000 --> 00:02.000\nМеня зовут Иван\n".encode()
HLS_PAGE = """<!doctype html><html><head><title>Пленные HLS</title></head><body><div id="player">loading</div>
<script>const u = '/h' + 'ls/ind' + 'ex.m' + '3u8';
fetch(u).then(r => r.text()).then(t => {
  document.getElementById('player').textContent = t.split('\\n').filter(l => l.endsWith('.ts')).length + ' segments';
});</script></body></html>""".encode()
TRUNC_PAGE = b"""<!doctype html><html><head><title>Cut</title></head>
<body><video src="/media/cut.mp4"></video></body></html>"""


class Site:
    """Files by path; logs (path, Range header); /slow never answers; /media/cut.mp4 is cut once
    (the first plain GET, i.e. the collector's download, not the <video> element's Range reads)."""

    def __init__(self, files: dict[str, tuple[bytes, str]]) -> None:
        self.files = files
        self.log: list[tuple[str, str | None]] = []
        self.cut_once = True
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.log.append((path, self.headers.get("Range")))
                if path == "/slow":
                    time.sleep(20)
                    return
                if path not in site.files:
                    self.send_error(404)
                    return
                body, kind = site.files[path]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if path == "/media/cut.mp4" and site.cut_once and not self.headers.get("Range"):  # not the <video>
                    site.cut_once = False
                    self.wfile.write(body[start:start + len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    root = tmp_path_factory.mktemp("site")
    encode_clip(root / "clip.mp4")
    hls = root / "hls"
    hls.mkdir()
    encode_clip(hls / "index.m3u8", "hls", {"hls_time": "1", "hls_list_size": "0", "hls_playlist_type": "vod",
                                           "hls_segment_filename": str(hls / "seg%03d.ts")})
    files = {"/mp4.html": (MP4_PAGE, "text/html"), "/hls.html": (HLS_PAGE, "text/html; charset=utf-8"),
             "/cut.html": (TRUNC_PAGE, "text/html"),
             "/media/clip.mp4": ((root / "clip.mp4").read_bytes(), "video/mp4"), "/media/clip.ru.vtt": (VTT, "text/vtt"),
             "/media/cut.mp4": ((root / "clip.mp4").read_bytes(), "video/mp4"),
             "/hls/index.m3u8": ((hls / "index.m3u8").read_bytes(), "application/vnd.apple.mpegurl")}
    for seg in hls.glob("*.ts"):
        files[f"/hls/{seg.name}"] = (seg.read_bytes(), "video/mp2t")
    served = Site(files)
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
