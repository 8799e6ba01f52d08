"""Open a video page in Debian Chromium (Playwright) and note where its video comes from.

The browser runs headless with a fresh temporary profile and the flags in DEVELOPERS.md.
While the page loads (bounded by a timeout) every request is logged; media requests (MP4,
HLS playlists) and the `src` of `<video>`/`<source>` elements are the candidate streams. A
full-page screenshot and the page HTML are kept as provenance.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MEDIA_TYPES = ("video/", "audio/", "application/vnd.apple.mpegurl", "application/x-mpegurl")
_ELEMENT_SRCS = """() => Array.from(document.querySelectorAll('video, video source, audio, audio source'))
    .map(e => e.currentSrc || e.src).filter(s => s && /^https?:/.test(s))"""


class PageError(Exception):
    """The page could not be opened or shows no video."""


@dataclass
class PageCapture:
    """What the browser saw on one page."""

    url: str
    title: str = ""
    status: int | None = None
    html: str = ""
    screenshot: bytes = b""
    streams: list[str] = field(default_factory=list)     # best first: HLS playlists, then files
    requests: list[str] = field(default_factory=list)    # every URL the page asked for, in order


def is_media_url(url: str, content_type: str = "") -> bool:
    path = url.split("?", 1)[0].lower()
    return path.endswith((".m3u8", ".mp4", ".webm", ".mov", ".m4v")) or content_type.lower().startswith(MEDIA_TYPES)


def _rank(url: str) -> int:
    return 0 if url.split("?", 1)[0].lower().endswith(".m3u8") else 1


def capture_page(url: str, chromium: str, timeout_s: float, user_agent: str) -> PageCapture:
    """Load `url`, wait (at most `timeout_s`) for a media stream, and record what was seen."""
    if not Path(chromium).is_file():
        raise PageError(f"Chromium not found at {chromium} (apt-get install -y chromium, or set collect.chromium_path)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result = PageCapture(url)
    media: list[str] = []
    with tempfile.TemporaryDirectory(prefix="svidok-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium, args=CHROMIUM_ARGS, headless=True, user_agent=user_agent,
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = context.new_page()
            page.on("request", lambda request: result.requests.append(request.url))
            page.on("response", lambda r: media.append(r.url) if is_media_url(r.url, r.headers.get("content-type", ""))
                    else None)
            try:
                response = page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            except PlaywrightError as exc:
                raise PageError(f"page did not load within {timeout_s:g} s: {str(exc).splitlines()[0]}") from None
            result.status = response.status if response else None
            if result.status is not None and result.status >= 400:
                raise PageError(f"HTTP {result.status}")
            _wait_for_media(page, media, timeout_s)
            result.streams = sorted(dict.fromkeys(media + page.evaluate(_ELEMENT_SRCS)), key=_rank)
            result.title = page.title()
            result.html = page.content()
            result.screenshot = page.screenshot(full_page=True, type="png")
        finally:
            context.close()
    return result


def _wait_for_media(page, media: list[str], timeout_s: float) -> None:  # noqa: ANN001 - playwright Page
    """Poll until a media request or a <video> with an http(s) src appears (or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if media or page.evaluate(_ELEMENT_SRCS):
            page.wait_for_timeout(300)             # let the player ask for the rest (e.g. the playlist)
            return
        page.wait_for_timeout(200)
