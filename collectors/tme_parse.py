"""Parse Telegram's public web preview (`https://t.me/s/<channel>`) into typed post records.

Pure functions over HTML (parsel/lxml), no network: `parse_page(html)` gives a `TmePage`
whose `posts` are `TmePost`s with id, UTC time, text (line breaks kept, links kept as their
text and listed in `links`), signature, views ("1.2K" -> 1200), edited flag, forward and
reply, and the attachments the preview shows (`TmeMedia`, `url=None` when the page exposes
no link to the bytes, e.g. documents or videos "too big" for the preview).
`collectors/tme_web.py` fetches the pages and downloads the media.

The page comes from the captors' side: URLs are recorded as the page gives them (the crawl
follows only http(s) ones, `collectors/safe_urls.py`), and every number must be in range
(`collectors/page_values.py`); a post with an id, reply id or view count out of range, or an
impossible date, is a problem of that post and the rest of the page is read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin

from parsel import Selector, SelectorList

from svidok.collectors.page_values import MAX_COUNT, bounded, parse_id
from svidok.foundation.clock import to_utc_iso

_BG_URL = re.compile(r"background-image:\s*url\(['\"]?(.*?)['\"]?\)")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_VIEWS = re.compile(r"^([\d.,]+)\s*([KMB]?)$", re.IGNORECASE)
_MULTIPLIER = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}

# Attachment containers, in the order the page shows them (one XPath union = document order).
_MEDIA_CLASSES = (
    "tgme_widget_message_photo_wrap", "tgme_widget_message_video_player", "tgme_widget_message_roundvideo_player",
    "tgme_widget_message_voice_player", "tgme_widget_message_document_wrap", "tgme_widget_message_sticker_wrap",
    "tgme_widget_message_service_photo",
)


@dataclass
class TmeMedia:
    """One attachment as the preview shows it."""

    role: str                    # photo, video, round_video, voice, audio, file, sticker, video_thumbnail, link_preview
    url: str | None              # where the bytes are; None: the preview exposes no URL
    note: str | None = None      # document title, "Media is too big", ...
    thumbnail: str | None = None


@dataclass
class LinkPreview:
    url: str | None
    site_name: str | None = None
    title: str | None = None
    description: str | None = None
    image_url: str | None = None
    video_url: str | None = None


@dataclass
class Poll:
    question: str
    kind: str
    options: list[str] = field(default_factory=list)


@dataclass
class TmePost:
    """One post of a channel's web preview."""

    channel: str
    id: int
    posted_at: str | None = None           # ISO 8601 UTC
    text: str = ""
    links: list[str] = field(default_factory=list)
    author: str | None = None              # the post's signature
    views: int | None = None
    edited: bool = False
    service: bool = False
    forwarded_from: str | None = None
    forwarded_from_url: str | None = None
    reply_to_id: int | None = None
    location: str | None = None
    media: list[TmeMedia] = field(default_factory=list)
    link_preview: LinkPreview | None = None
    poll: Poll | None = None

    @property
    def kind(self) -> str:
        """service, poll, location, or the first attachment's role, else text."""
        if self.service:
            return "service"
        if self.poll:
            return "poll"
        if self.location:
            return "location"
        return self.media[0].role if self.media and self.media[0].role != "link_preview" else "text"

    @property
    def url(self) -> str:
        return f"https://t.me/{self.channel}/{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TmePost":
        data = dict(data)
        data["media"] = [TmeMedia(**m) for m in data.get("media", [])]
        data["link_preview"] = LinkPreview(**data["link_preview"]) if data.get("link_preview") else None
        data["poll"] = Poll(**data["poll"]) if data.get("poll") else None
        return cls(**data)


@dataclass
class TmePage:
    """One fetched page: its posts (page order, oldest first) and what could not be read."""

    posts: list[TmePost]
    says_no_posts: bool = False            # Telegram's own "No posts found"
    problems: list[str] = field(default_factory=list)


def parse_views(value: str | None) -> int | None:
    """'1.2K' -> 1200, '3.1M' -> 3100000, '2' -> 2; None when absent or unreadable."""
    match = _VIEWS.match((value or "").strip())
    if not match:
        return None
    try:
        return int(Decimal(match.group(1).replace(",", ".")) * _MULTIPLIER[match.group(2).upper()])
    except InvalidOperation:
        return None


def _abs(url: str | None, base: str = "https://t.me/") -> str | None:
    if not url or url.startswith("data:"):
        return None
    return urljoin(base, url.strip())


def _bg_url(sel: Selector) -> str | None:
    match = _BG_URL.search(sel.attrib.get("style", "")) if sel else None
    return _abs(match.group(1)) if match else None


def render_text(sel: Selector | None, link_base: str = "https://t.me/") -> tuple[str, list[str]]:
    """Visible text of an element (<br> -> newline, HTML whitespace collapsed) and its link URLs."""
    if sel is None:
        return "", []
    parts: list[str] = []
    links: list[str] = []

    # Depth-first without recursion: a hostile page may nest elements thousands deep.
    stack: list[tuple[Any, bool, str | None]] = [(sel.root, False, None)]     # (element, pre, tail after it)
    while stack:
        el, pre, tail = stack.pop()
        if el is None:                                    # the tail of a child, once its subtree is done
            parts.append(tail if pre else _SPACES.sub(" ", tail))
            continue
        tag = el.tag if isinstance(el.tag, str) else ""
        pre = pre or tag in ("pre", "code")
        if tag == "br":
            parts.append("\n")
        elif tag == "a" and el.get("href") and not el.get("href").startswith("javascript:"):
            links.append(urljoin(link_base, el.get("href")))
        if el.text and tag not in ("br", "script", "style"):
            parts.append(el.text if pre else _SPACES.sub(" ", el.text))
        for child in reversed(list(el)):
            if child.tail:
                stack.append((None, pre, child.tail))
            stack.append((child, pre, None))

    lines = [line.strip() for line in "".join(parts).replace("\xa0", " ").split("\n")]
    return "\n".join(lines).strip(), links


def _plain(sel: Selector | SelectorList) -> str | None:
    node = sel if isinstance(sel, Selector) else (sel[0] if sel else None)
    return render_text(node)[0] or None if node is not None else None


def _media_item(el: Selector) -> list[TmeMedia]:
    cls = el.attrib.get("class", "")
    if "tgme_widget_message_photo_wrap" in cls:
        return [TmeMedia("photo", _bg_url(el))]
    if "tgme_widget_message_service_photo" in cls:
        return [TmeMedia("photo", _abs(el.css("img::attr(src)").get()))]
    if "roundvideo_player" in cls:
        return _video(el, "round_video", el.css("video.tgme_widget_message_roundvideo::attr(src)").get(),
                      el.css("i.tgme_widget_message_roundvideo_thumb"))
    if "tgme_widget_message_video_player" in cls:
        return _video(el, "video", el.css("video.tgme_widget_message_video::attr(src)").get(),
                      el.css("i.tgme_widget_message_video_thumb"))
    if "tgme_widget_message_voice_player" in cls:
        return [TmeMedia("voice", _abs(el.css("audio::attr(src)").get()))]
    if "tgme_widget_message_document_wrap" in cls:
        role = "audio" if el.css(".tgme_widget_message_document_icon.audio") else "file"
        title = _plain(el.css(".tgme_widget_message_document_title"))
        extra = _plain(el.css(".tgme_widget_message_document_extra"))
        return [TmeMedia(role, None, " - ".join(x for x in (title, extra) if x) or None)]
    if "tgme_widget_message_sticker_wrap" in cls:
        url = (el.css("[data-webp]::attr(data-webp)").get() or el.css("video::attr(src)").get()
               or el.css("source[type='application/x-tgsticker']::attr(srcset)").get())
        return [TmeMedia("sticker", _abs(url))]
    return []


def _video(el: Selector, role: str, src: str | None, thumb: Selector) -> list[TmeMedia]:
    thumb_url = _bg_url(thumb[0]) if thumb else None
    if src:
        return [TmeMedia(role, _abs(src), thumbnail=thumb_url)]
    label = _plain(el.css(".message_media_not_supported_label")) or "not in the web preview"
    found = [TmeMedia(role, None, label, thumb_url)]
    if thumb_url:
        found.append(TmeMedia("video_thumbnail", thumb_url))
    return found


def parse_media(sel: Selector) -> list[TmeMedia]:
    """Attachments inside `sel` (a post, or a bare media fragment), in page order."""
    test = " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')" for c in _MEDIA_CLASSES)
    found: list[TmeMedia] = []
    for el in sel.xpath(f".//*[{test}]"):
        found.extend(_media_item(el))
    return found


def parse_link_preview(sel: Selector) -> LinkPreview | None:
    box = sel.css("a.tgme_widget_message_link_preview")
    if not box:
        return None
    box = box[0]
    image = box.css("i.link_preview_image, i.link_preview_right_image")
    return LinkPreview(
        url=_abs(box.attrib.get("href")),
        site_name=_plain(box.css(".link_preview_site_name")),
        title=_plain(box.css(".link_preview_title")),
        description=_plain(box.css(".link_preview_description")),
        image_url=_bg_url(image[0]) if image else None,
        video_url=_abs(box.css("video.link_preview_video::attr(src)").get()),
    )


def _poll(sel: Selector) -> Poll | None:
    box = sel.css(".tgme_widget_message_poll")
    if not box:
        return None
    options = [_plain(o) or "" for o in box.css(".tgme_widget_message_poll_option_text")]
    return Poll(_plain(box.css(".tgme_widget_message_poll_question")) or "",
                _plain(box.css(".tgme_widget_message_poll_type")) or "", options)


def _posted_at(sel: Selector) -> str | None:
    value = sel.css(".tgme_widget_message_date time::attr(datetime), time.time::attr(datetime)").get()
    try:
        return to_utc_iso(datetime.fromisoformat(value)) if value else None
    except OverflowError:                  # e.g. 9999-12-31T23:00-03:00 has no UTC time
        raise ValueError(f"date {value[:40]!r} is out of range") from None


def _post_id(sel: Selector) -> tuple[str, int]:
    """(channel, id) from `data-post="channel/id"`; ValueError when unusable or out of range."""
    data_post = sel.attrib.get("data-post") or ""
    channel, _, number = data_post.rpartition("/")
    if not channel or not number.isdigit():
        shown = data_post if len(data_post) <= 80 else data_post[:77] + "..."
        raise ValueError(f"post without a usable data-post attribute ({shown!r})")
    try:
        return channel, parse_id(number, "post id")
    except ValueError as exc:
        raise ValueError(f"post {channel[:40]}/{number[:40]}: {exc}") from None


def _reply_to(sel: Selector) -> int | None:
    last = (sel.css("a.tgme_widget_message_reply::attr(href)").get() or "").rstrip("/").rpartition("/")[2]
    return parse_id(last, "reply id") if last.isdigit() else None


def _views(sel: Selector) -> int | None:
    views = parse_views(sel.css(".tgme_widget_message_views::text").get())
    return None if views is None else bounded(views, "view count", MAX_COUNT)


def parse_post(sel: Selector) -> TmePost:
    """One `div.tgme_widget_message[data-post]`; raises ValueError when it has no usable id
    or a number on it is out of range."""
    channel, post_id = _post_id(sel)
    try:
        posted_at, views, reply_to_id = _posted_at(sel), _views(sel), _reply_to(sel)
    except ValueError as exc:
        raise ValueError(f"post {channel}/{post_id}: {exc}") from None
    bubble = sel.css(".tgme_widget_message_bubble") or [sel]
    text_el = bubble[0].xpath("./div[contains(@class, 'tgme_widget_message_text')]") or \
        sel.css(".tgme_widget_message_text")
    text, links = render_text(text_el[0] if text_el else None, f"https://t.me/s/{channel}")
    meta = sel.css(".tgme_widget_message_meta")
    forward = sel.css(".tgme_widget_message_forwarded_from_name")
    preview = parse_link_preview(sel)
    media = parse_media(sel)
    if preview and preview.image_url:
        media.append(TmeMedia("link_preview", preview.image_url))
    if preview and preview.video_url:
        media.append(TmeMedia("link_preview", preview.video_url))
    return TmePost(
        channel=channel, id=post_id, posted_at=posted_at, text=text, links=links,
        author=_plain(sel.css(".tgme_widget_message_from_author")), views=views,
        edited=bool(meta) and "edited" in " ".join(meta[0].xpath("./text()").getall()),
        service="service_message" in sel.attrib.get("class", ""),
        forwarded_from=_plain(forward), forwarded_from_url=_abs(forward.attrib.get("href")) if forward else None,
        reply_to_id=reply_to_id,
        location=_abs(sel.css("a.tgme_widget_message_location_wrap::attr(href)").get()),
        media=media, link_preview=preview, poll=_poll(sel),
    )


def parse_page(html: str) -> TmePage:
    """Every post of a t.me/s page (or of a fragment holding posts); unreadable posts become problems."""
    html = html.encode("utf-16", "surrogatepass").decode("utf-16", "replace")   # lone surrogates -> U+FFFD
    sel = Selector(text=html, type="html")              # never guessed as JSON
    page = TmePage(posts=[], says_no_posts=bool(sel.css(".tme_no_messages_found")))
    for node in sel.css("div.tgme_widget_message[data-post]"):
        try:
            page.posts.append(parse_post(node))
        except (ValueError, TypeError, OverflowError) as exc:
            page.problems.append(str(exc))
    return page
