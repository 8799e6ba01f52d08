"""TV and video pages: yt-dlp first, then a real browser when yt-dlp cannot get the video.

    URL ──yt-dlp (library)──▶ one file ≤ 720p with audio (+ subtitles)
        └─ fails ─▶ Chromium (collectors/page_capture.py) ──▶ stream (collectors/hls.py)
                                                  + screenshot + page HTML
    ──▶ one ItemRecord (source_kind "video", source_id = the URL)

The format selector prefers a single file that already holds video and audio, so no merging
(and no ffmpeg) is needed; a video+audio merge is asked for only when ffmpeg is installed.
Downloads go to `<work>/<url hash>/` and survive a failed run: the next run resumes them
(yt-dlp's `.part` files, Range requests for the fallback). That folder is removed once the
item has been handed to the archive.

The page is the captors': yt-dlp is held to http(s) (`collectors/ytdlp_guard.py`), the browser
runs sandboxed and reports only http(s) streams (`collectors/page_capture.py`), playlists naming
anything else are refused (`collectors/hls.py`), and numbers from the page's metadata that are
out of range are dropped (`collectors/page_values.py`). Everything goes through `collect.proxy`.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from svidok.collectors.base import Collector, CollectProblem
from svidok.collectors.hls import DownloadError, Fetch, download, download_hls, resolve_playlist
from svidok.collectors.page_capture import BrowserOptions, PageCapture, PageError, capture_page
from svidok.collectors.page_values import MAX_COUNT, MAX_DURATION_S, MAX_TIMESTAMP, number_or_none
from svidok.collectors.safe_urls import checked_proxy, refusal
from svidok.foundation.archive import ItemRecord, MediaRecord

if TYPE_CHECKING:
    from svidok.collectors.sources import Source
    from svidok.foundation.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoOptions:
    """How video pages are fetched (from settings `collect.*`)."""

    chromium: str = "/usr/bin/chromium"
    page_timeout_s: float = 45.0
    download_timeout_s: float = 120.0
    retries: int = 3
    user_agent: str = "Svidok-archiver/0.1"
    max_height: int = 720
    max_bytes: int = 8 * 1024**3
    use_ytdlp: bool = True
    proxy: str | None = None             # collect.proxy, checked; None: direct


class YtdlpFailed(Exception):
    """yt-dlp has no working extractor for the page, or its download failed."""


class _QuietLogger:
    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)


def format_selector(max_height: int, can_merge: bool) -> str:
    """One file with audio, ≤ max_height when the height is known; merging only with ffmpeg."""
    h = max_height
    return f"b[height<=?{h}]/bv*[height<=?{h}]+ba/b" if can_merge else f"b[height<=?{h}]/b"


def _iso_date(info: dict[str, Any]) -> str | None:
    timestamp = number_or_none(info.get("timestamp"), MAX_TIMESTAMP)
    if timestamp:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()
    day = info.get("upload_date")
    return f"{day[:4]}-{day[4:6]}-{day[6:8]}" if isinstance(day, str) and len(day) == 8 and day.isdigit() else None


class VideoPageCollector(Collector):
    """Collects the video of one page."""

    name = "video"
    version = "1.0"

    def __init__(self, url: str, work_dir: Path, options: VideoOptions) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url}")
        self.url = url
        self.options = options
        self.work = work_dir / hashlib.sha256(url.encode()).hexdigest()[:16]

    @property
    def source_key(self) -> str:
        return f"video:{self.url}"

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        """1. yt-dlp; 2. if it fails, the browser; 3. one item, then the work folder goes."""
        self.work.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            if not self.options.use_ytdlp:
                raise YtdlpFailed("")
            item = self._with_ytdlp()                                                   # 1
        except YtdlpFailed as first:
            log.info("video %s: yt-dlp failed (%s), opening the page in Chromium", self.url, first)
            try:
                item = self._with_browser()                                             # 2
            except (PageError, DownloadError, OSError) as exc:
                yield CollectProblem(self.url, f"yt-dlp: {first}; browser: {exc}" if str(first) else f"browser: {exc}")
                return
        yield item                                                                      # 3
        shutil.rmtree(self.work, ignore_errors=True)

    def _with_ytdlp(self) -> ItemRecord:
        import yt_dlp
        from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

        from svidok.collectors.ytdlp_guard import FormatGuard, HttpOnlyYoutubeDL, guarded_params

        guard = FormatGuard()
        params = {
            "format": format_selector(self.options.max_height, FFmpegPostProcessor().available),
            "outtmpl": str(self.work / "video.%(ext)s"), "writesubtitles": True, "subtitleslangs": ["all"],
            "noplaylist": True, "playlist_items": "1", "quiet": True, "noprogress": True, "logger": _QuietLogger(),
            "socket_timeout": self.options.page_timeout_s, "retries": self.options.retries, "continuedl": True,
            "http_headers": {"User-Agent": self.options.user_agent}, "max_filesize": self.options.max_bytes,
            "check_formats": False, **guarded_params(self.options.proxy, guard),
        }
        try:
            with HttpOnlyYoutubeDL(params) as ydl:
                info = ydl.extract_info(self.url, download=True)
        except yt_dlp.utils.YoutubeDLError as exc:
            raise YtdlpFailed(guard.refused or str(exc).removeprefix("ERROR: ").splitlines()[0]) from None
        if info.get("_type") == "playlist":
            info = (info.get("entries") or [None])[0] or {}
        downloads = info.get("requested_downloads") or []
        path = Path(downloads[0]["filepath"]) if downloads and downloads[0].get("filepath") else None
        if path is None or not path.is_file():
            raise YtdlpFailed(guard.refused or "no file was downloaded")
        return self._ytdlp_item(info, path, yt_dlp.version.__version__)

    def _ytdlp_item(self, info: dict[str, Any], path: Path, version: str) -> ItemRecord:
        media = [MediaRecord(role="video", source_ref=info.get("url") or self.url, path=path, original_name=path.name)]
        for lang, sub in sorted((info.get("requested_subtitles") or {}).items()):
            if sub.get("filepath") and Path(sub["filepath"]).is_file():
                media.append(MediaRecord(role="subtitles", source_ref=sub.get("url") or "", path=Path(sub["filepath"]),
                                         original_name=f"{lang}.{sub.get('ext', 'vtt')}"))
        raw = {"method": "yt-dlp", "extractor": info.get("extractor_key") or info.get("extractor"),
               "format_id": info.get("format_id"), "yt_dlp_version": version, "title": info.get("title"),
               "duration": number_or_none(info.get("duration"), MAX_DURATION_S),
               "height": number_or_none(info.get("height"), MAX_COUNT),
               "webpage_url": info.get("webpage_url"), "subtitles": sorted(info.get("requested_subtitles") or {})}
        text = "\n\n".join(t for t in (info.get("title"), info.get("description")) if t)
        return ItemRecord(source_kind="video", source_id=self.url, url=self.url, text=text, kind="video",
                          channel=info.get("channel") or info.get("uploader") or urlsplit(self.url).hostname,
                          author=info.get("uploader"), posted_at=_iso_date(info),
                          views=number_or_none(info.get("view_count"), MAX_COUNT),
                          raw=raw, media=media)

    def _with_browser(self) -> ItemRecord:
        options = self.options
        page = capture_page(self.url, BrowserOptions(options.chromium, options.page_timeout_s, options.user_agent,
                                                     options.proxy))
        if not page.streams:
            raise PageError("no video found on the page (no <video> source and no media request)")
        fetch = Fetch({"User-Agent": options.user_agent, "Referer": self.url}, options.download_timeout_s,
                      options.retries, options.max_bytes, options.proxy)
        problems = []
        for stream in page.streams:
            try:
                video, details = self._download_stream(stream, fetch)
                break
            except DownloadError as exc:
                problems.append(str(exc))
        else:
            raise DownloadError("; ".join(problems))
        return self._browser_item(page, video, stream, details)

    def _download_stream(self, stream: str, fetch: Fetch) -> tuple[Path, dict[str, Any]]:
        if refusal(stream):
            raise DownloadError(refusal(stream))
        if stream.split("?", 1)[0].lower().endswith(".m3u8"):
            playlist = resolve_playlist(stream, fetch, self.options.max_height)
            path = download_hls(playlist, self.work / "hls", self.work / "stream.mp4", fetch)
            return path, {"stream_kind": "hls", "playlist": playlist.url, "segments": len(playlist.segments),
                          "playlist_duration": round(playlist.duration, 3)}
        suffix = Path(urlsplit(stream).path).suffix.lower() or ".mp4"
        return download(stream, self.work / f"stream{suffix}", fetch), {"stream_kind": "file"}

    def _browser_item(self, page: PageCapture, video: Path, stream: str, details: dict[str, Any]) -> ItemRecord:
        shot = self.work / "screenshot.png"
        shot.write_bytes(page.screenshot)
        html = self.work / "page.html"
        html.write_text(page.html, encoding="utf-8")
        media = [MediaRecord(role="video", source_ref=stream, path=video, original_name=video.name),
                 MediaRecord(role="screenshot", source_ref=self.url, path=shot, original_name="screenshot.png"),
                 MediaRecord(role="html", source_ref=self.url, path=html, original_name="page.html")]
        raw = {"method": "browser", "stream_url": stream, **details, "http_status": page.status,
               "title": page.title, "requests": page.requests[:500]}
        return ItemRecord(source_kind="video", source_id=self.url, url=self.url, text=page.title, kind="video",
                          channel=urlsplit(self.url).hostname, raw=raw, media=media)


DOWNLOADS = "downloads/video"


def options_for(workspace: "Workspace", source: "Source") -> VideoOptions:
    """The collection options from the workspace's settings (and the source's `browser_only`)."""
    s = workspace.settings.collect
    return VideoOptions(chromium=s.chromium_path, page_timeout_s=s.page_timeout_s,
                        download_timeout_s=s.download_timeout_s, retries=s.retries, user_agent=s.user_agent,
                        max_height=s.video_max_height, max_bytes=workspace.settings.archive.max_file_bytes,
                        use_ytdlp=not source.browser_only, proxy=checked_proxy(s.proxy))


def collectors_for(workspace: "Workspace", source: "Source") -> Iterator[VideoPageCollector]:
    """The `[[source]]` entry point for `kind = "video"` (target = the page URL)."""
    yield VideoPageCollector(source.target, workspace.root / DOWNLOADS, options_for(workspace, source))
