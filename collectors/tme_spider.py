"""The Scrapy side of `collectors/tme_web.py`: one crawl of one channel's t.me/s pages.

Runs in a child process (`python -m svidok.collectors.tme_spider JOB_JSON`; Twisted's reactor can
start only once per process). Pages are read newest first; each page's media are
downloaded (written as `.part`, renamed when whole) before the page is announced and the
next, older page is requested. Events go to stdout, one JSON object per line:
`page` (posts + downloaded files + failed downloads), `problem`, `end`.

Politeness: AutoThrottle, retries with exponential backoff (`_Backoff`), robots.txt obeyed
for remote hosts (media are fetched as the page's resources), the configured User-Agent,
timeouts and size limit. A loopback base URL (a local mirror or test server) gets no delays.

Hostile pages (`_Policy`, `scrapy_settings`): only http(s) requests leave the crawl (Scrapy's
file, data, ftp and s3 handlers are switched off, and a middleware refuses any other scheme,
redirects included); a media URL that is not http(s) is not requested and is reported as
`rejected`, as are downloaded bytes that are not what the media role promises (an HTML page
as a photo). Every request, robots.txt included, goes through `collect.proxy` when it is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import scrapy
from scrapy.exceptions import IgnoreRequest

from svidok.collectors.page_values import SNIFF_BYTES, content_refusal
from svidok.collectors.safe_urls import refusal
from svidok.collectors.tme_parse import TmePost, parse_page

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class CrawlJob:
    """Everything the child crawl needs (sent as JSON)."""

    base_url: str
    channel: str
    max_pages: int
    media_dir: str
    user_agent: str
    timeout_s: float
    retries: int
    max_bytes: int
    checkpoint: dict[str, Any] | None = None
    known: dict[str, int] = field(default_factory=dict)  # post id -> media rows already complete
    revisit: list[int] = field(default_factory=list)      # posts whose media failed before: fetched again
    proxy: str | None = None                               # http://host:port for every request; None: direct

    @property
    def local(self) -> bool:
        return urlparse(self.base_url).hostname in LOOPBACK


class _Backoff:
    """Downloader middleware: wait 1, 2, 4 ... s (max 30) before each retry of a request."""

    async def process_request(self, request: scrapy.Request, spider: Any = None) -> None:
        tries = request.meta.get("retry_times", 0)
        if tries:
            await asyncio.sleep(min(30.0, 2.0 ** (tries - 1)))


class _Policy:
    """Downloader middleware, first in line: refuses non-http(s) requests, sets the proxy."""

    def __init__(self, proxy: str | None) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> _Policy:
        return cls(crawler.settings.get("SVIDOK_PROXY") or None)

    def process_request(self, request: scrapy.Request, spider: Any = None) -> None:
        why = refusal(request.url)
        if why:
            raise IgnoreRequest(why)
        if self.proxy:
            request.meta["proxy"] = self.proxy


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@dataclass
class _PageState:
    posts: list[TmePost]
    phase: int
    pending: int = 0
    files: dict[str, str] = field(default_factory=dict)     # "post/idx" -> file
    failed: dict[str, str] = field(default_factory=dict)    # "post/idx" -> error
    rejected: dict[str, str] = field(default_factory=dict)  # "post/idx" -> why it was refused
    skipped: list[int] = field(default_factory=list)


class TmeSpider(scrapy.Spider):
    """Pages of one channel, newest first, each page's media downloaded before the next page."""

    name = "tme"

    def __init__(self, job: CrawlJob, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.pages = 0
        self.counter = 0
        self.revisit = sorted(job.revisit, reverse=True)
        self.covered: set[int] = set()
        self.reached_start: bool | None = None

    async def start(self):  # noqa: ANN201 - scrapy's async start
        yield self._page_request(None, 1)

    def _page_request(self, before: int | None, phase: int) -> scrapy.Request:
        url = f"{self.job.base_url.rstrip('/')}/s/{self.job.channel}" + (f"?before={before}" if before else "")
        return scrapy.Request(url, callback=self.on_page, errback=self.on_page_error, dont_filter=True,
                              cb_kwargs={"before": before, "phase": phase})

    def on_page_error(self, failure: Any):  # noqa: ANN201
        _emit({"event": "problem", "where": failure.request.url, "message": f"page not fetched: {_why(failure)}"})
        yield from self._stop(False)

    def _stop(self, reached_start: bool):  # noqa: ANN202
        """End of the backward crawl: revisit pages of posts whose media failed last time, then `end`."""
        if self.reached_start is None:
            self.reached_start = reached_start
        while self.revisit:
            post_id = self.revisit.pop(0)
            if post_id not in self.covered:
                yield self._page_request(post_id + 1, 3)
                return
        _emit({"event": "end", "reached_start": self.reached_start, "pages": self.pages})

    def on_page(self, response: scrapy.http.Response, before: int | None, phase: int):  # noqa: ANN201
        self.pages += 1
        page = parse_page(response.text)
        for problem in page.problems:
            _emit({"event": "problem", "where": response.url, "message": problem})
        posts = sorted((p for p in page.posts if before is None or p.id < before), key=lambda p: -p.id)
        if not posts:
            if not page.says_no_posts and not page.problems:
                _emit({"event": "problem", "where": response.url,
                       "message": "no posts on the page (not a t.me/s page, or malformed HTML)"})
            yield from self._stop(page.says_no_posts)
            return
        self.covered.update(p.id for p in posts)
        state = _PageState(posts, phase)
        requests = list(self._media_requests(state))
        state.pending = len(requests)
        yield from requests
        if not requests:
            yield from self._finish(state)

    def _media_requests(self, state: _PageState) -> Iterator[scrapy.Request]:
        for post in state.posts:
            if self.job.known.get(str(post.id)) == len(post.media):
                state.skipped.append(post.id)
                continue
            for index, media in enumerate(post.media):
                key, why = f"{post.id}/{index}", refusal(media.url) if media.url else None
                if why:
                    state.rejected[key] = why
                elif media.url:
                    yield scrapy.Request(media.url, callback=self.on_media, errback=self.on_media_error,
                                         dont_filter=True, priority=10, meta={"dont_obey_robotstxt": True},
                                         cb_kwargs={"state": state, "key": key, "role": media.role})

    def on_media(self, response: scrapy.http.Response, state: _PageState, key: str, role: str):  # noqa: ANN201
        why = content_refusal(role, response.body[:SNIFF_BYTES])
        if why:
            state.rejected[key] = why
            yield from self._media_done(state)
            return
        self.counter += 1
        suffix = Path(urlparse(response.url).path).suffix[:8] or ".bin"
        final = Path(self.job.media_dir) / f"{self.counter}{suffix}"
        part = final.with_name(final.name + ".part")
        part.write_bytes(response.body)
        os.replace(part, final)
        state.files[key] = str(final)
        yield from self._media_done(state)

    def on_media_error(self, failure: Any):  # noqa: ANN201
        kwargs = failure.request.cb_kwargs
        kwargs["state"].failed[kwargs["key"]] = f"{failure.request.url}: {_why(failure)}"
        yield from self._media_done(kwargs["state"])

    def _media_done(self, state: _PageState):  # noqa: ANN202
        state.pending -= 1
        if state.pending == 0:
            yield from self._finish(state)

    def _finish(self, state: _PageState):  # noqa: ANN202
        checkpoint = self.job.checkpoint or {}
        smallest = state.posts[-1].id
        overlap = state.phase == 1 and bool(checkpoint) and smallest <= checkpoint["newest"]
        _emit({"event": "page", "phase": state.phase, "overlap": overlap, "files": state.files,
               "failed": state.failed, "rejected": state.rejected, "skipped": state.skipped,
               "posts": [p.as_dict() for p in state.posts]})
        reached_start = smallest <= 1
        if state.phase == 3:
            yield from self._stop(False)
            return
        if overlap and not checkpoint.get("reached_start"):
            before, phase = checkpoint["oldest"], 2
        elif overlap or reached_start or self.pages >= self.job.max_pages:
            yield from self._stop(reached_start or (overlap and bool(checkpoint.get("reached_start"))))
            return
        else:
            before, phase = smallest, state.phase
        yield self._page_request(before, phase)


def _why(failure: Any) -> str:
    value = failure.value
    response = getattr(value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    text = repr(value)
    if "DataLoss" in text or "PotentialDataLoss" in text:
        return "download incomplete (connection closed before the announced length)"
    if "TimeoutError" in type(value).__name__ or "took longer than" in str(value):
        return f"timed out ({value})"
    return f"{type(value).__name__}: {value}".strip().rstrip(":")


def scrapy_settings(job: CrawlJob) -> dict[str, Any]:
    """Scrapy settings of one crawl: politeness, limits, http(s) only, the proxy."""
    delay = 0.0 if job.local else 1.0
    return {
        "USER_AGENT": job.user_agent, "ROBOTSTXT_OBEY": not job.local, "COOKIES_ENABLED": False,
        "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": delay, "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "DOWNLOAD_DELAY": delay, "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "RETRY_ENABLED": True, "RETRY_TIMES": job.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": job.timeout_s, "DOWNLOAD_MAXSIZE": job.max_bytes, "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": True, "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING", "SVIDOK_PROXY": job.proxy,
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},      # http(s) only
        "DOWNLOADER_MIDDLEWARES": {"svidok.collectors.tme_spider._Policy": 50,
                                   "svidok.collectors.tme_spider._Backoff": 540},
    }


def crawl(job: CrawlJob) -> None:
    """Run the crawl in this process (the child's entry point); events go to stdout."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(settings=scrapy_settings(job))
    process.crawl(TmeSpider, job=job)
    process.start()


if __name__ == "__main__":
    crawl(CrawlJob(**json.loads(sys.argv[1])))
