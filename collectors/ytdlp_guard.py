"""yt-dlp held to http(s): the YoutubeDL class and options `collectors/video_page.py` runs.

yt-dlp follows URLs that the page gives it (its generic extractor reads `<video>` sources,
JSON-LD, playlists, subtitles). The page is the captors', so three fences stand between it
and anything but the web:

1. `HttpOnlyYoutubeDL.urlopen` refuses every request that is not http(s): every extractor
   fetch, native download, HLS/DASH fragment and subtitle goes through it (yt-dlp's own
   handlers would also speak `ftp:` and `data:`, and `file:` when enabled);
2. `FormatGuard`, yt-dlp's match filter, looks at the chosen formats before anything
   is downloaded: each URL must be http(s) and each protocol one that yt-dlp downloads itself
   (`ALLOWED_PROTOCOLS`, external downloaders switched off), and so must subtitle URLs;
3. should ffmpeg fetch anyway (a live HLS stream), its inputs are held to http(s)
   (`FFMPEG_INPUT_ARGS`).
"""

from __future__ import annotations

from typing import Any

import yt_dlp
from yt_dlp.networking.exceptions import RequestError
from yt_dlp.utils import DownloadCancelled

from svidok.collectors.safe_urls import refusal

ALLOWED_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "m3u8", "http_dash_segments"})
FFMPEG_INPUT_ARGS = ["-protocol_whitelist", "http,https,tcp,tls,crypto,httpproxy"]


class RefusedUrl(RequestError):
    """yt-dlp was about to fetch a URL that is not http(s)."""


class HttpOnlyYoutubeDL(yt_dlp.YoutubeDL):
    """`yt_dlp.YoutubeDL` whose every request must be http(s)."""

    def urlopen(self, req: Any) -> Any:
        url = req if isinstance(req, str) else getattr(req, "url", None) or req.get_full_url()
        why = refusal(url)
        if why:
            raise RefusedUrl(f"yt-dlp {why}")
        return super().urlopen(req)


def unsafe_format(info: dict[str, Any]) -> str | None:
    """Why the formats and subtitles yt-dlp chose may not be downloaded, or None."""
    for fmt in info.get("requested_formats") or [info]:
        protocol = str(fmt.get("protocol") or "")
        if fmt.get("url") and refusal(fmt["url"]):
            return f"format {fmt.get('format_id')}: {refusal(fmt['url'])}"
        if protocol and protocol not in ALLOWED_PROTOCOLS:
            return f"format {fmt.get('format_id')}: protocol {protocol!r} is not downloaded (http(s) and HLS only)"
    for lang, sub in (info.get("requested_subtitles") or {}).items():
        if sub.get("url") and refusal(sub["url"]):
            return f"subtitles {lang}: {refusal(sub['url'])}"
    return None


class FormatGuard:
    """yt-dlp match filter: stops the download when `unsafe_format` objects, and keeps why
    (yt-dlp itself reports only "The download was cancelled")."""

    def __init__(self) -> None:
        self.refused: str | None = None

    def __call__(self, info: dict[str, Any], *, incomplete: bool = False) -> None:
        if not incomplete:
            self.refused = unsafe_format(info)
        if self.refused:
            raise DownloadCancelled(self.refused)


def guarded_params(proxy: str | None, guard: FormatGuard) -> dict[str, Any]:
    """YoutubeDL options that keep yt-dlp to http(s), through `collect.proxy` when set."""
    params: dict[str, Any] = {
        "match_filter": guard, "enable_file_urls": False,
        "external_downloader": {"default": "native"}, "hls_prefer_native": True,
        "external_downloader_args": {"ffmpeg_i": FFMPEG_INPUT_ARGS},
    }
    if proxy:
        scheme, _, rest = proxy.partition("://")
        params["proxy"] = f"socks5h://{rest}" if scheme.lower() == "socks5" else proxy   # names resolved by the proxy
    return params
