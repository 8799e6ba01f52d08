"""Open a video page in Debian Chromium (Playwright) and note where its video comes from.

The browser runs headless with a fresh temporary profile and the flags in DEVELOPERS.md.
While the page loads (bounded by a timeout) every request is logged; media requests (MP4,
HLS playlists) and the `src` of `<video>`/`<source>` elements are the candidate streams. A
full-page screenshot and the page HTML are kept as provenance.

The page is the adversary's, so Chromium runs with its sandbox on (`open_browser`). The
sandbox refuses to start as root, so a root process (containers, CI) starts Chromium as the
unprivileged user `nobody` through util-linux `setpriv`, with a profile, home and download
folder that user owns. A route handler aborts every request that is not http(s), and only
http(s) streams are reported. `BrowserOptions.proxy` (`collect.proxy`) is the browser's proxy.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from svidok.collectors.safe_urls import is_followable, refusal

CHROMIUM_ARGS = ["--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]
SANDBOX_USER = "nobody"          # who runs Chromium when this process is root
MEDIA_TYPES = ("video/", "audio/", "application/vnd.apple.mpegurl", "application/x-mpegurl")
_ELEMENT_SRCS = """() => Array.from(document.querySelectorAll('video, video source, audio, audio source'))
    .map(e => e.currentSrc || e.src).filter(s => s && /^https?:/.test(s))"""


class PageError(Exception):
    """The page could not be opened or shows no video."""


@dataclass(frozen=True)
class BrowserOptions:
    """How Chromium is started (from settings `collect.*`)."""

    chromium: str = "/usr/bin/chromium"
    timeout_s: float = 45.0
    user_agent: str = "Svidok-archiver/0.1"
    proxy: str | None = None             # http://host:port or socks5://host:port; None: direct


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


def _sandboxed_executable(root: Path, chromium: str) -> str:
    """What Playwright starts: Chromium itself, or (as root) a wrapper that starts it as SANDBOX_USER.

    Creates `root/profile`, `root/home` and `root/downloads`, owned by whoever runs Chromium."""
    folders = [root / "profile", root / "home", root / "downloads"]
    for folder in folders:
        folder.mkdir(mode=0o700)
    if os.geteuid() != 0:
        return chromium
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PageError("running as root, Chromium's sandbox needs an unprivileged user: install util-linux (setpriv)")
    try:
        user = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        raise PageError(f"running as root, Chromium is started as {SANDBOX_USER!r}: there is no such user") from None
    root.chmod(0o711)                               # the user may pass through, not list
    for folder in folders:
        os.chown(folder, user.pw_uid, user.pw_gid)
    wrapper = root / "chromium-sandboxed"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(setpriv)} --reuid={user.pw_uid} --regid={user.pw_gid}"
                       f" --clear-groups --inh-caps=-all -- {shlex.quote(chromium)} \"$@\"\n")
    wrapper.chmod(0o700)
    return str(wrapper)


def playwright_proxy(proxy: str | None) -> dict[str, str] | None:
    """`collect.proxy` as Playwright's launch option (Chromium resolves names through SOCKS itself)."""
    if not proxy:
        return None
    parts = urlsplit(proxy)
    scheme = "socks5" if parts.scheme.lower().startswith("socks") else parts.scheme.lower()
    found = {"server": f"{scheme}://{parts.netloc.rpartition('@')[2]}"}
    if parts.username:
        found.update(username=unquote(parts.username), password=unquote(parts.password or ""))
    return found


@contextmanager
def open_browser(pw: Any, options: BrowserOptions) -> Iterator[Any]:
    """A fresh, sandboxed Chromium context (Playwright `BrowserContext`), closed and removed after."""
    if not Path(options.chromium).is_file():
        raise PageError(f"Chromium not found at {options.chromium} "
                        "(apt-get install -y chromium, or set collect.chromium_path)")
    from playwright.sync_api import Error as PlaywrightError

    with tempfile.TemporaryDirectory(prefix="svidok-chromium-") as tmp:
        root = Path(tmp)
        executable = _sandboxed_executable(root, options.chromium)
        home = str(root / "home")
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_CACHE_HOME": f"{home}/.cache"}
        try:
            context = pw.chromium.launch_persistent_context(
                str(root / "profile"), executable_path=executable, args=CHROMIUM_ARGS, headless=True,
                chromium_sandbox=True, downloads_path=str(root / "downloads"), accept_downloads=False,
                env=env,
                proxy=playwright_proxy(options.proxy), user_agent=options.user_agent,
                viewport={"width": 1280, "height": 800},
            )
        except PlaywrightError as exc:
            raise PageError(f"Chromium did not start with its sandbox on: {str(exc).splitlines()[0]} (the sandbox "
                            "needs unprivileged user namespaces; see DEVELOPERS.md, Chromium flags)") from None
        try:
            yield context
        finally:
            context.close()


def _http_only(route: Any) -> None:
    """Route handler: a request that is not http(s) never leaves the browser."""
    if is_followable(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def capture_page(url: str, options: BrowserOptions) -> PageCapture:
    """Load `url`, wait (at most `options.timeout_s`) for a media stream, and record what was seen."""
    if refusal(url):
        raise PageError(refusal(url))
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result = PageCapture(url)
    media: list[str] = []
    timeout_s = options.timeout_s
    with sync_playwright() as pw, open_browser(pw, options) as context:
        context.route("**/*", _http_only)
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
        found = dict.fromkeys(media + page.evaluate(_ELEMENT_SRCS))
        result.streams = sorted((s for s in found if is_followable(s)), key=_rank)
        result.title = page.title()
        result.html = page.content()
        result.screenshot = page.screenshot(full_page=True, type="png")
    return result


def _wait_for_media(page, media: list[str], timeout_s: float) -> None:  # noqa: ANN001 - playwright Page
    """Poll until a media request or a <video> with an http(s) src appears (or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if media or page.evaluate(_ELEMENT_SRCS):
            page.wait_for_timeout(300)             # let the player ask for the rest (e.g. the playlist)
            return
        page.wait_for_timeout(200)
