"""collectors.page_capture: Chromium runs sandboxed, and a page gets nothing but http(s) from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from svidok.collectors.page_capture import CHROMIUM_ARGS, BrowserOptions, PageError, capture_page, open_browser
from tests.collectors.video_site import CHROMIUM, Site, encode_clip

NO_CHROMIUM = "/usr/bin/chromium is absent (apt-get install -y chromium)"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.is_file(), reason=NO_CHROMIUM)]


def chromium_processes() -> list[tuple[int, list[str]]]:
    """(real uid, argv) of every Chromium process started by `open_browser` (its profile is svidok-chromium-*)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        if args and "chromium" in args[0] and any("svidok-chromium-" in a for a in args):
            uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
            found.append((uid, args))
    return found


def test_chromium_runs_with_its_sandbox_on():
    from playwright.sync_api import sync_playwright

    assert "--no-sandbox" not in CHROMIUM_ARGS
    with sync_playwright() as pw, open_browser(pw, BrowserOptions()) as context:
        page = context.new_page()
        page.goto("chrome://sandbox")
        report = page.inner_text("body")
        processes = chromium_processes()
    assert "You are adequately sandboxed." in report, report
    assert "Seccomp-BPF sandbox\tYes" in report and "Network namespaces\tYes" in report, report
    assert processes, "no Chromium process of ours was found"
    for uid, args in processes:
        assert "--no-sandbox" not in args, args
        assert uid != 0 or os.geteuid() != 0, f"Chromium runs as root: {args[:3]}"


def test_only_http_streams_are_reported(tmp_path):
    """Local files named by the page are neither loaded nor reported (Chromium and the route handler)."""
    encode_clip(tmp_path / "local.mp4")
    page = (f'<html><head><title>local</title></head><body><video src="{(tmp_path / "local.mp4").as_uri()}"></video>'
            f'<script>fetch("{(tmp_path / "local.mp4").as_uri()}").catch(() => 0); fetch("ftp://127.0.0.1:9/x.mp4")'
            '.catch(() => 0)</script></body></html>')
    site = Site({"/local.html": (page.encode(), "text/html")})
    try:
        result = capture_page(f"{site.base}/local.html", BrowserOptions(timeout_s=3))
    finally:
        site.server.shutdown()
    assert result.title == "local" and result.streams == []
    with pytest.raises(PageError, match=r"not an http\(s\) URL"):
        capture_page((tmp_path / "local.mp4").as_uri(), BrowserOptions(timeout_s=3))
