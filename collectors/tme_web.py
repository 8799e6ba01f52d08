"""Collect a channel's public web preview (`https://t.me/s/<channel>`) with Scrapy.

    TmeWebCollector.collect()            (this process, yields ItemRecords to the pipeline)
        └─ python -m svidok.collectors.tme_spider  (a child process running one Scrapy crawl)
              TmeSpider: page -> parse -> download its media -> emit page -> older page ...

Why a child process: Twisted's reactor can start only once per process, and one CLI run or
test session may collect many channels. The child prints one JSON event per line on stdout
(`page`, `problem`, `end`) and leaves downloaded media as complete files in a temporary
folder (written as `.part`, renamed when whole); the parent turns each page's posts into
`ItemRecord`s, newest first, and `svidok.pipeline.run_collector` stores them, so storing,
idempotency, checkpoints and crash safety are the pipeline's. The child dies with its parent.

Resuming: the checkpoint is the archived id range `{"newest", "oldest", "reached_start"}`.
A rerun reads the newest page again (edits there become new item versions), pages back until
it meets `newest`, then jumps to `?before=<oldest>` unless the channel's start was reached.
Media already archived for recent posts are not downloaded again; posts whose downloads
failed last time have their page fetched again. Politeness rules: collectors/tme_spider.py.

The page is hostile: media URLs that are not http(s), and bytes that are not what their role
promises, are archived as `rejected` media with the reason (nothing is stored for them), and
the store checks the type again (`MediaRecord.expect`). All requests go through
`collect.proxy` when set; Scrapy speaks only to HTTP proxies, so a SOCKS proxy is refused
here rather than ignored.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svidok.collectors.base import Collector, CollectProblem
from svidok.collectors.page_values import expected_majors
from svidok.collectors.safe_urls import ProxyError, checked_proxy, is_socks
from svidok.collectors.tme_parse import TmePost
from svidok.collectors.tme_spider import CrawlJob
from svidok.foundation.archive import Archive, ItemRecord, MediaRecord, MediaStatus
from svidok.foundation.workspace import Workspace

KNOWN_WINDOW = 300  # recent posts whose stored media are not fetched again

if TYPE_CHECKING:
    from svidok.collectors.sources import Source


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class TmeWebCollector(Collector):
    """One channel's t.me/s preview: posts and the media the preview exposes."""

    name = "telegram-web"
    version = "0.1.0"

    def __init__(self, workspace: Workspace, channel: str, base_url: str = "https://t.me",
                 max_pages: int | None = None, language: str | None = None) -> None:
        self.ws = workspace
        self.channel = channel.strip().lstrip("@").rstrip("/").rpartition("/")[2]
        self.base_url = base_url
        self.max_pages = max_pages or workspace.settings.collect.web_max_pages
        self.language = language
        self.proxy = scrapy_proxy(workspace.settings.collect.proxy)
        self.previous: dict[str, Any] | None = None
        self.range: dict[str, Any] = {}
        self.overlapped = False
        self.finished = False

    @property
    def source_key(self) -> str:
        return f"telegram-web:{self.channel}"

    def checkpoint(self) -> dict[str, Any] | None:
        """The contiguous archived range; until this run meets the previous range, the previous one."""
        if not self.range:
            return self.previous
        if self.previous and self.overlapped:
            return {"newest": max(self.range["newest"], self.previous["newest"]),
                    "oldest": min(self.range["oldest"], self.previous["oldest"]),
                    "reached_start": self.range["reached_start"] or self.previous.get("reached_start", False)}
        if self.previous and not self.finished:
            return self.previous
        return dict(self.range)

    def _job(self, media_dir: str) -> CrawlJob:
        settings = self.ws.settings
        self.previous = Archive(self.ws, self.name, self.version).get_checkpoint(self.source_key) or None
        return CrawlJob(self.base_url, self.channel, self.max_pages, media_dir, settings.collect.user_agent,
                        settings.collect.download_timeout_s, settings.collect.retries, settings.archive.max_file_bytes,
                        self.previous, *self._known(), proxy=self.proxy)

    def _known(self) -> tuple[dict[str, int], list[int]]:
        """Recent posts whose media are all archived, and posts whose media failed (to fetch again)."""
        rows = self.ws.conn.execute(
            "SELECT i.source_id, COUNT(m.id), COUNT(CASE WHEN m.status NOT IN ('stored', 'not-in-preview') THEN 1 END)"
            " FROM item i"
            " LEFT JOIN item_media m ON m.item_id = i.id WHERE i.source_kind = ? AND i.source_id LIKE ? ESCAPE '!'"
            " GROUP BY i.id ORDER BY i.id DESC LIMIT ?",
            (self.name, self.channel.replace("_", "!_") + "/%", KNOWN_WINDOW)).fetchall()
        known = {sid.rpartition("/")[2]: n for sid, n, bad in rows if not bad}
        return known, [int(sid.rpartition("/")[2]) for sid, _, bad in rows if bad][:20]

    def collect(self) -> Iterator[ItemRecord | CollectProblem]:
        with tempfile.TemporaryDirectory(prefix="svidok-tme-") as tmp:
            job = self._job(tmp)
            log = Path(tmp) / "crawl.log"
            with log.open("w") as err:
                proc = subprocess.Popen([sys.executable, "-m", "svidok.collectors.tme_spider", json.dumps(asdict(job))],
                                        stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8",
                                        preexec_fn=_die_with_parent, cwd=Path(__file__).resolve().parents[1])
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    yield from self._on_event(json.loads(line))
                if proc.wait() != 0:
                    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                    yield CollectProblem(self.base_url, f"crawl process failed (exit {proc.returncode}): {tail[0]}")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        self.finished = True

    def _on_event(self, event: dict[str, Any]) -> Iterator[ItemRecord | CollectProblem]:
        if event["event"] == "problem":
            yield CollectProblem(event["where"], event["message"])
        elif event["event"] == "end":
            if self.range:
                self.range["reached_start"] = bool(event["reached_start"])
        elif event["event"] == "page":
            for where, message in event["failed"].items():
                yield CollectProblem(f"{self.channel}/{where}", f"media not downloaded: {message}")
            skipped = set(event["skipped"])
            for data in event["posts"]:
                post = TmePost.from_dict(data)
                files, rejected = _of_post(event["files"], post.id), _of_post(event.get("rejected", {}), post.id)
                if event["phase"] != 3:
                    self._advance(post.id)
                yield to_item(post, files, post.id in skipped, self.language, rejected)
                for path in files.values():
                    Path(path).unlink(missing_ok=True)

    def _advance(self, post_id: int) -> None:
        if not self.range:
            self.range = {"newest": post_id, "oldest": post_id, "reached_start": False}
        self.range["oldest"] = min(self.range["oldest"], post_id)
        self.overlapped = self.overlapped or bool(self.previous and post_id <= self.previous["newest"])


def _of_post(by_key: dict[str, str], post_id: int) -> dict[int, str]:
    """{"post/index": value} entries of one post, by media index."""
    return {int(k.rpartition("/")[2]): v for k, v in by_key.items() if k.startswith(f"{post_id}/")}


def scrapy_proxy(setting: str) -> str | None:
    """`collect.proxy` for the crawl: None (direct) or an http:// proxy; ProxyError for SOCKS."""
    proxy = checked_proxy(setting)
    if is_socks(proxy):
        raise ProxyError(f"collect.proxy {setting!r}: `collect telegram-web` (Scrapy) cannot use a SOCKS proxy; "
                         "give an http://host:port proxy (for Tor: HTTPTunnelPort 9080 -> http://127.0.0.1:9080)")
    return proxy


def stable_raw(post: TmePost) -> dict[str, Any]:
    """What the post says, without what changes on every visit (views, signed CDN URLs)."""
    raw: dict[str, Any] = {"type": post.kind, "edited": post.edited}
    optional = {
        "links": post.links, "author": post.author, "reply_to": post.reply_to_id, "location": post.location,
        "forwarded_from": {"name": post.forwarded_from, "url": post.forwarded_from_url} if post.forwarded_from else None,
        "media": [{"role": m.role, "note": m.note} for m in post.media if m.role != "link_preview"],
        "link_preview": {k: v for k, v in asdict(post.link_preview).items() if k in ("url", "site_name", "title",
                         "description") and v} if post.link_preview else None,
        "poll": asdict(post.poll) if post.poll else None,
    }
    raw.update({k: v for k, v in optional.items() if v})
    return raw


def to_item(post: TmePost, files: dict[int, str], skip_media: bool, language: str | None,
            rejected: dict[int, str] | None = None) -> ItemRecord:
    """A parsed post (+ its downloaded files, + why media were refused) as the archive's record."""
    media: list[MediaRecord] = []
    rejected = rejected or {}
    for index, found in enumerate([] if skip_media else post.media):
        if found.url is None:
            media.append(MediaRecord(found.role, post.url, status=MediaStatus.NOT_IN_PREVIEW, note=found.note))
        elif index in rejected:
            media.append(MediaRecord(found.role, found.url, status=MediaStatus.REJECTED, note=rejected[index]))
        elif index in files:
            media.append(MediaRecord(found.role, found.url, path=Path(files[index]),
                                     expect=expected_majors(found.role)))
        else:
            media.append(MediaRecord(found.role, found.url, status=MediaStatus.MISSING, note="download failed"))
    return ItemRecord(
        source_kind="telegram-web", source_id=f"{post.channel}/{post.id}", text=post.text, channel=post.channel,
        url=post.url, posted_at=post.posted_at, author=post.author, forwarded_from=post.forwarded_from,
        views=post.views, language=language, kind="service" if post.service else "post", raw=stable_raw(post),
        media=media,
    )


def collectors_for(workspace: Workspace, source: "Source") -> Iterator[TmeWebCollector]:
    """The `[[source]]` entry point for `kind = "telegram-web"`: one collector for the channel."""
    yield TmeWebCollector(workspace, source.target, base_url=source.base_url or "https://t.me",
                          max_pages=source.max_pages, language=source.language)
