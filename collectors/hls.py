"""Stream downloads for the browser fallback: plain files (resumable) and HLS playlists.

Every download lands in a `.part` file first and is renamed only when complete (its length
matches Content-Length), so nothing half-written is ever handed to the archive; a rerun
continues a `.part` file with an HTTP Range request. An HLS stream is fetched as its playlist
plus every segment (each segment resumable the same way), the MPEG-TS segments are joined,
and the result is remuxed (no re-encoding) into one MP4 with PyAV.

Playlists come from the captors' side: every URL they name (variants, segments, keys, init
sections) must be http(s) (`collectors/safe_urls.py`) or the playlist is refused before
anything is fetched, and its numbers (durations, resolutions) must be in range. Requests go
through `Fetch.proxy` (`collect.proxy`) when set; a SOCKS proxy needs the `socksio` package.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx

from svidok.collectors.page_values import MAX_DURATION_S
from svidok.collectors.safe_urls import refusal

MAX_TEXT_BYTES = 10 * 1024**2          # the largest playlist read
_URI_ATTR = re.compile(r'URI="([^"]*)"')


class DownloadError(Exception):
    """A stream could not be downloaded completely."""


@dataclass(frozen=True)
class Fetch:
    """How to talk to the server that serves a stream."""

    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0
    retries: int = 3
    max_bytes: int = 8 * 1024**3
    proxy: str | None = None             # collect.proxy; None: direct (or the environment's proxy)


def _check_url(url: str) -> None:
    why = refusal(url)
    if why:
        raise DownloadError(why)


@contextmanager
def _stream(url: str, headers: dict[str, str], fetch: Fetch) -> Iterator[httpx.Response]:
    """A streamed GET through the configured proxy; only http(s) URLs."""
    _check_url(url)
    try:
        client = httpx.Client(proxy=fetch.proxy, timeout=fetch.timeout_s, follow_redirects=True)
    except ImportError as exc:            # httpx without socksio, asked for a SOCKS proxy
        raise DownloadError(f"collect.proxy {fetch.proxy!r}: {exc}") from None
    with client, client.stream("GET", url, headers=headers) as response:
        yield response


def download(url: str, target: Path, fetch: Fetch) -> Path:
    """Download `url` to `target` (via `target.part`, resumed when present); returns `target`."""
    if target.exists():
        return target
    _check_url(url)
    part = target.with_name(target.name + ".part")
    last: Exception | None = None
    for _ in range(max(1, fetch.retries)):
        try:
            _fetch_into(url, part, fetch)
            os.replace(part, target)
            return target
        except (httpx.TransportError, DownloadError) as exc:
            last = exc
            if isinstance(exc, DownloadError) and "HTTP 4" in str(exc):
                break
    raise DownloadError(f"{url}: {last}")


def _fetch_into(url: str, part: Path, fetch: Fetch) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {**fetch.headers, "Accept-Encoding": "identity"}      # the bytes as served, resumable by offset
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with _stream(url, headers, fetch) as response:
        if response.status_code == 416 and offset:         # the part file already holds everything
            return
        if response.status_code >= 400:
            raise DownloadError(f"HTTP {response.status_code}")
        if response.status_code != 206:
            offset = 0                                      # the server ignored Range: start again
        expected = response.headers.get("content-length")
        total = offset + int(expected) if expected is not None else None
        if total is not None and total > fetch.max_bytes:
            raise DownloadError(f"larger than the {fetch.max_bytes:,}-byte limit")
        with part.open("ab" if offset else "wb") as out:
            try:
                for chunk in response.iter_raw():                   # written as it arrives: resumable
                    out.write(chunk)
            except httpx.HTTPError:
                raise DownloadError(f"truncated: connection lost at byte {out.tell()} of {total or '?'}") from None
            finally:
                out.flush()
                os.fsync(out.fileno())
            got = out.tell()
        if total is not None and got < total:
            raise DownloadError(f"truncated: got {got} of {total} bytes")


def get_text(url: str, fetch: Fetch) -> str:
    """A small text resource (a playlist), at most MAX_TEXT_BYTES."""
    try:
        with _stream(url, fetch.headers, fetch) as response:
            if response.status_code >= 400:
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_TEXT_BYTES:
                    raise DownloadError(f"{url}: larger than {MAX_TEXT_BYTES:,} bytes, not a playlist")
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.TransportError as exc:
        raise DownloadError(f"{url}: {exc}") from None


@dataclass(frozen=True)
class Playlist:
    """A media playlist: its segment URLs and total duration."""

    url: str
    segments: list[str]
    duration: float


def resolve_playlist(url: str, fetch: Fetch, max_height: int = 720) -> Playlist:
    """Fetch an HLS playlist; for a master playlist, pick the tallest variant <= max_height."""
    text = get_text(url, fetch)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise DownloadError(f"{url}: not an HLS playlist")
    if any(line.startswith("#EXT-X-KEY") and "METHOD=NONE" not in line for line in lines):
        raise DownloadError(f"{url}: encrypted HLS streams are not supported")
    _refuse_foreign_schemes(url, lines)
    variants = [(_height(line), urljoin(url, nxt)) for line, nxt in zip(lines, lines[1:])
                if line.startswith("#EXT-X-STREAM-INF")]
    if variants:
        fitting = [v for v in variants if v[0] <= max_height] or [min(variants)]
        return resolve_playlist(max(fitting)[1], fetch, max_height)
    segments, duration = [], 0.0
    for line, nxt in zip(lines, lines[1:]):
        if line.startswith("#EXTINF:"):
            duration += _duration(url, line)
            segments.append(urljoin(url, nxt))
    if not segments:
        raise DownloadError(f"{url}: the playlist lists no segments")
    if duration > MAX_DURATION_S:
        raise DownloadError(f"{url}: the playlist claims {duration:.0f} s, more than {MAX_DURATION_S} s")
    return Playlist(url, segments, duration)


def _refuse_foreign_schemes(url: str, lines: list[str]) -> None:
    """DownloadError when the playlist names any URL (variant, segment, URI="...") that is not http(s)."""
    named = [line for line in lines if not line.startswith("#")]
    named += [uri for line in lines if line.startswith("#") for uri in _URI_ATTR.findall(line)]
    for ref in named:
        try:
            why = refusal(urljoin(url, ref))
        except ValueError:
            why = f"unreadable URL {ref[:80]!r}"
        if why:
            raise DownloadError(f"{url}: the playlist names a URL that is not followed ({why})")


def _duration(url: str, extinf: str) -> float:
    try:
        value = float(extinf[8:].split(",")[0])
    except ValueError:
        raise DownloadError(f"{url}: unreadable segment duration {extinf[:40]!r}") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_DURATION_S:
        raise DownloadError(f"{url}: segment duration {extinf[8:40]!r} is out of range")
    return value


def _height(stream_inf: str) -> int:
    for attr in stream_inf.split(","):
        if attr.startswith("RESOLUTION=") or ":RESOLUTION=" in attr:
            height = attr.rsplit("x", 1)[1].strip()
            return int(height) if height.isascii() and height.isdigit() and len(height) <= 6 else 0
    return 0


def download_hls(playlist: Playlist, work: Path, target: Path, fetch: Fetch) -> Path:
    """All segments (resumable), joined, then remuxed into `target` (.mp4)."""
    if target.exists():
        return target
    work.mkdir(parents=True, exist_ok=True)
    joined = work / "stream.ts"
    if not joined.exists():
        parts = [download(url, work / f"segment-{i:05d}.ts", fetch) for i, url in enumerate(playlist.segments)]
        tmp = work / "stream.ts.part"
        with tmp.open("wb") as out:
            for path in parts:
                out.write(path.read_bytes())
            os.fsync(out.fileno())
        os.replace(tmp, joined)
    remux_to_mp4(joined, target)
    return target


def remux_to_mp4(source: Path, target: Path) -> None:
    """Copy the audio/video packets of `source` into an MP4 container (no re-encoding)."""
    import av

    tmp = target.with_name(target.name + ".part")
    with av.open(str(source)) as inp, av.open(str(tmp), "w", format="mp4") as out:
        streams = {}
        for stream in inp.streams:
            if stream.type in ("video", "audio"):
                streams[stream.index] = out.add_stream_from_template(stream)
        if not streams:
            raise DownloadError(f"{source.name}: no audio or video in the stream")
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    os.replace(tmp, target)
