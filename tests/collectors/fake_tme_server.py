"""A generated Telegram channel served as t.me/s pages on 127.0.0.1, with its media files.

Pages are written with real t.me/CDN/outbound URLs and every absolute URL is rewritten to
the local server before it is served. Faults can be switched on per path: `fail_once`
(HTTP 500 the first time), `truncate` (Content-Length larger than the body), `slow` (sleeps
before answering), `stall` (sends half the body, then waits). `requests` logs every path.
A `Guard` is an HTTP proxy that refuses and records every request sent to it: with
http(s)_proxy pointing at it and no_proxy=127.0.0.1, any request to another host shows up.
A `ForwardingProxy` is the proxy a collector is told to use (`collect.proxy`): it forwards
requests for 127.0.0.1 and records every URL; anything else is refused and recorded.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse, urlsplit

import av
import numpy as np
from PIL import Image

FOREIGN = ("https://t.me", "https://cdn4.telegram-cdn.org", "https://example.org")


def jpeg(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), color).save(buf, "JPEG")
    return buf.getvalue()


def mp4(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), color, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buf.getvalue()


def ogg() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        samples = (np.sin(np.arange(48000) / 10) * 0.3).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = 48000
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buf.getvalue()


def make_media() -> dict[str, bytes]:
    return {"A.jpg": jpeg((200, 30, 30)), "B.jpg": jpeg((30, 200, 30)), "C.jpg": jpeg((30, 30, 200)),
            "P.jpg": jpeg((200, 200, 30)), "T.jpg": jpeg((30, 200, 200)), "V.mp4": mp4((250, 0, 0)),
            "R.mp4": mp4((0, 0, 250)), "O.ogg": ogg()}


CDN = "https://cdn4.telegram-cdn.org/file"


def _media_html(post_id: int) -> str:
    photo = '<a class="tgme_widget_message_photo_wrap" href="https://t.me/testchan/{i}" style="width:480px;' \
            "background-image:url('{cdn}/{name}?token=x{i}')\"></a>"
    return {
        30: photo.format(i=30, cdn=CDN, name="A.jpg") + f'<a class="tgme_widget_message_video_player" href="https://'
            f't.me/testchan/30"><i class="tgme_widget_message_video_thumb" style="background-image:url(\'{CDN}/T.jpg'
            f'\')"></i><video src="{CDN}/V.mp4?token=v" class="tgme_widget_message_video js-message_video"></video></a>',
        29: f'<div class="tgme_widget_message_roundvideo_player"><video class="tgme_widget_message_roundvideo" '
            f'src="{CDN}/R.mp4?token=r"></video></div>',
        28: f'<a class="tgme_widget_message_voice_player"><audio class="tgme_widget_message_voice" '
            f'src="{CDN}/O.ogg?token=o"></audio></a>',
        27: '<a class="tgme_widget_message_document_wrap" href="https://t.me/testchan/27"><div class="tgme_widget_'
            'message_document_title">list.pdf</div><div class="tgme_widget_message_document_extra">2.1 MB</div></a>',
        26: f'<a class="tgme_widget_message_video_player not_supported"><i class="tgme_widget_message_video_thumb" '
            f'style="background-image:url(\'{CDN}/T.jpg?token=t\')"></i><div class="message_media_not_supported_label">'
            f'Media is too big</div></a>',
        25: photo.format(i=25, cdn=CDN, name="A.jpg"),
        15: photo.format(i=15, cdn=CDN, name="B.jpg"),
        3: photo.format(i=3, cdn=CDN, name="C.jpg"),
    }.get(post_id, "")


@dataclass
class FakePost:
    id: int
    text: str
    edited: bool = False


def post_html(post: FakePost) -> str:
    extra = ""
    if post.id == 24:
        extra = (f'<a class="tgme_widget_message_link_preview" href="https://example.org/article"><i class="link_'
                 f'preview_image" style="background-image:url(\'{CDN}/P.jpg?token=p\')"></i><div class="link_preview'
                 f'_title">Article</div></a>')
    forward = ('<div class="tgme_widget_message_forwarded_from">Forwarded from&nbsp;<a class="tgme_widget_message_'
               'forwarded_from_name" href="https://t.me/other"><span>Other channel</span></a></div>'
               if post.id == 22 else "")
    service = " service_message" if post.id == 23 else ""
    author = '<span class="tgme_widget_message_from_author">Іван Петренко</span>,&nbsp;' if post.id % 5 == 0 else ""
    return (
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message js-widget_message{service}" '
        f'data-post="testchan/{post.id}"><div class="tgme_widget_message_bubble">{forward}{_media_html(post.id)}'
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{post.text}</div>{extra}'
        f'<div class="tgme_widget_message_footer"><div class="tgme_widget_message_info">'
        f'<span class="tgme_widget_message_views">{"1.2K" if post.id == 30 else post.id}</span>'
        f'<span class="tgme_widget_message_meta">{author}{"edited &nbsp;" if post.edited else ""}'
        f'<a class="tgme_widget_message_date" href="https://t.me/testchan/{post.id}">'
        f'<time datetime="2024-03-0{1 + post.id % 9}T1{post.id % 10}:00:00+03:00" class="time">x</time></a>'
        f'</span></div></div></div></div></div>'
    )


@dataclass
class FakeTelegram:
    """State of the fake site; `start()` serves it and returns the base URL."""

    posts: dict[int, FakePost] = field(default_factory=lambda: {
        i: FakePost(i, f"Пост номер {i}<br/>друга строка <a href=\"https://example.org/{i}\">посилання</a>")
        for i in range(1, 31) if i != 7})
    media: dict[str, bytes] = field(default_factory=make_media)
    page_size: int = 10
    requests: list[str] = field(default_factory=list)
    fail_once: set[str] = field(default_factory=set)
    truncate: set[str] = field(default_factory=set)
    slow: dict[str, float] = field(default_factory=dict)
    stall: dict[str, float] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)   # channel -> fixed page body (malformed pages)
    base: str = ""

    def page(self, before: int | None) -> str:
        ids = sorted(i for i in self.posts if before is None or i < before)[-self.page_size:]
        body = "".join(post_html(self.posts[i]) for i in ids) or \
            '<div class="tme_no_messages_found">No posts found</div>'
        more = f'<link rel="prev" href="https://t.me/s/testchan?before={ids[0]}">' if ids else ""
        return f"<html><head>{more}</head><body><section class=\"tgme_channel_history\">{body}</section></body></html>"

    def rewrite(self, html: str) -> bytes:
        for foreign in FOREIGN:
            html = html.replace(foreign, self.base)
        return html.encode("utf-8")

    def start(self) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        return self.base

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(site: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            site.requests.append(self.path)
            url = urlparse(self.path)
            name = url.path.rpartition("/")[2]
            if url.path in site.fail_once or name in site.fail_once:
                site.fail_once.discard(url.path)
                site.fail_once.discard(name)
                return self._send(500, b"try again")
            time.sleep(site.slow.get(name, 0))
            if url.path.startswith("/s/"):
                channel = url.path[3:]
                if channel in site.pages:
                    return self._send(200, site.pages[channel].encode())
                before = parse_qs(url.query).get("before", [None])[0]
                return self._send(200, site.rewrite(site.page(int(before) if before else None)), "text/html")
            if url.path.startswith("/file/") and name in site.media:
                return self._send(200, site.media[name], truncate=name in site.truncate, stall=site.stall.get(name))
            self._send(404, b"not found")

        def _send(self, code: int, body: bytes, ctype: str = "application/octet-stream", truncate: bool = False,
                  stall: float | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) + (1000 if truncate else 0)))
            self.end_headers()
            if stall:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(stall)
                body = body[len(body) // 2:]
            self.wfile.write(body)
            self.close_connection = True

    return Handler


class Guard:
    """An HTTP proxy that answers 403 to everything and remembers what was asked."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        guard = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _refuse(self) -> None:
                guard.seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_CONNECT = do_HEAD = do_POST = _refuse  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "server", "date"}


class ForwardingProxy:
    """An HTTP proxy for 127.0.0.1 only: `seen` lists every URL asked for, `refused` the others."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.refused: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                proxy.seen.append(self.path)
                target = urlsplit(self.path)
                if target.scheme != "http" or target.hostname != "127.0.0.1":
                    return self._refuse()
                upstream = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

            def do_CONNECT(self) -> None:  # noqa: N802
                proxy.seen.append(f"CONNECT {self.path}")
                self._refuse()

            def _refuse(self) -> None:
                proxy.refused.append(self.path)
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
