"""`svidok collect video`: TV and video pages (yt-dlp, with a Chromium fallback)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from svidok.cli.base import CommandContext, common_options, stderr

if TYPE_CHECKING:
    from svidok.collectors.video_page import VideoOptions
    from svidok.pipeline import CollectReport
    from svidok.foundation.workspace import Workspace

DOWNLOADS = "downloads/video"


def video_options(ws: "Workspace") -> "VideoOptions":
    from svidok.collectors.video_page import VideoOptions

    s = ws.settings.collect
    return VideoOptions(chromium=s.chromium_path, page_timeout_s=s.page_timeout_s,
                        download_timeout_s=s.download_timeout_s, retries=s.retries, user_agent=s.user_agent,
                        max_height=s.video_max_height, max_bytes=ws.settings.archive.max_file_bytes)


def collect_videos(ws: "Workspace", urls: list[str], options: "VideoOptions") -> "CollectReport":
    """Collect each URL through the pipeline; a page that fails is reported and the others go on."""
    from svidok.collectors.video_page import VideoPageCollector
    from svidok.pipeline import CollectReport, run_collector

    total = CollectReport()
    for url in urls:
        try:
            collector = VideoPageCollector(url, ws.root / DOWNLOADS, options)
        except ValueError as exc:
            total.errors.append({"where": url, "error": str(exc)})
            continue
        stderr.print(f"video: {url}")
        total.merge(run_collector(ws, collector))
    return total


def run_source(ws: "Workspace", source: Any) -> "CollectReport":
    """The `collect --all` runner for `kind = "video"` sources (target = page URL)."""
    return collect_videos(ws, [source.target], video_options(ws))


@click.command("video")
@click.argument("urls", nargs=-1, required=True)
@click.option("--browser-only", is_flag=True, help="Skip yt-dlp and go straight to the Chromium fallback.")
@common_options
def video_command(cc: CommandContext, urls: tuple[str, ...], browser_only: bool) -> None:
    """Collect the video of TV and video pages: yt-dlp first, a headless Chromium when it fails.

    Keeps one file of at most 720p with audio (collect.video_max_height), subtitles when
    offered, and, for pages read in the browser, a full-page screenshot and the page HTML.
    Interrupted downloads continue on the next run.

    Example:

        svidok collect video https://example.tv/news/12345 --json
    """
    import dataclasses

    logging.basicConfig(level=logging.INFO if cc.debug else logging.WARNING, format="%(levelname)s %(message)s")
    with cc.workspace() as ws:
        options = dataclasses.replace(video_options(ws), use_ytdlp=not browser_only)
        report = collect_videos(ws, list(urls), options)
    cc.emit(report.as_dict(), lambda d: stderr.print(f"{d['items']} new, {d['updated']} updated, "
                                                     f"{d['duplicates']} unchanged, {d['media']} media, "
                                                     f"{len(d['errors'])} errors"))
    if report.errors and report.did_nothing:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [video_command]
