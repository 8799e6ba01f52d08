"""A local video site on 127.0.0.1 for the `collect video` tests: generated clips, pages, faults.

`encode_clip` makes a short H.264 + AAC clip with PyAV; `Site` serves files by path with Range
support, logs every (path, Range), never answers /slow, and cuts /media/cut.mp4 once;
`make_site` builds the usual pages (MP4 in a <video>, HLS fetched by JavaScript, a cut download).
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

DURATION = 3.0
CHROMIUM = Path("/usr/bin/chromium")


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


def make_site(root: Path) -> Site:
    """The usual pages and media, generated under `root`, served on 127.0.0.1."""
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
    return Site(files)
