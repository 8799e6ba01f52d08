"""Fuzz the three readers of hostile input with structure-aware generated inputs (hypothesis).

Targets (a crash is any exception other than the documented one):
- tdesktop: a Telegram Desktop export folder -> `TelegramDesktopExport` -> `run_collector` into a
  scratch workspace. result.json-shaped documents with fields of the wrong type, odd values
  (lone surrogates, huge numbers, NUL, escaping paths), then text-level damage (truncation,
  deep nesting, spliced bytes). Documented: `ExportError` (one clear error for the export).
- tme: `collectors.tme_parse.parse_page` on t.me/s-like HTML built from the real post markup
  (`div.tgme_widget_message[data-post]`, text, media wraps, meta, forward, reply, poll, link
  preview) with odd attribute values and damage. Documented: none (bad posts are page.problems).
- mime: `foundation.mime.sniff` on real file headers, truncated, spliced and bit-flipped, and
  random bytes. Documented: none.

Usage: .venv/bin/python benchmarks/fuzz_inputs.py [--examples 1000] [--seconds 300] [--seed 0]
       [--targets tdesktop,tme,mime] [--save DIR]
Each target runs until --examples inputs or --seconds, whichever comes first. Prints one JSON
summary (inputs, crashes, distinct crash kinds with a reproducing input, seconds per target);
exit code 1 when any target crashed. No network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))   # the targets import svidok lazily, inside the functions below
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "svidok-hypothesis")   # its caches stay out of the repository

ODD_TEXT = ["", " ", "\ud800", "a\udfffb", "\x00", "\u202eтекст", "😀", "ё" * 3, "x" * 5000, "\\u12", '"', "]}",
            "(File not included. Change data exporting settings to download.)", "../../etc/passwd", "/etc/passwd",
            "photos/ok.jpg", "photos/out.jpg", "photos/loop.jpg", "photos", ".", "photos/nul\x00.jpg",
            "files/" + "y" * 300, "2024-03-01T09:01:00", "1709283660", "-1", "9" * 30, "video_file", "service"]
ODD_NUMBERS = [0, -1, 2**63, -(2**63) - 1, 10**40, 1.5, float("nan"), float("inf"), 1e308, True, False]
FIELDS = ["id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "author", "actor", "action",
          "text", "text_entities", "forwarded_from", "saved_from", "photo", "file", "file_name", "media_type",
          "mime_type", "width", "poll", "reactions", "new_field", "messages", "name"]

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
           | st.sampled_from(ODD_TEXT) | st.sampled_from(ODD_NUMBERS))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=4),
                           max_leaves=10)
texts = st.text(max_size=40) | st.sampled_from(ODD_TEXT) | st.lists(
    st.text(max_size=10) | st.fixed_dictionaries({"type": st.sampled_from(["bold", "link"]), "text": scalars}),
    max_size=4)


def mostly(usual: Any, odd: st.SearchStrategy) -> st.SearchStrategy:
    """`usual` (a value or a strategy) three times in four, else `odd` (`|` would weigh each branch of `odd`)."""
    usual = usual if isinstance(usual, st.SearchStrategy) else st.just(usual)
    return st.integers(0, 3).flatmap(lambda n: usual if n else odd)


@st.composite
def export_messages(draw: Any) -> Any:
    """A message as Telegram Desktop writes it, with a few fields replaced, dropped or added."""
    message = {"id": draw(st.integers(1, 40)), "type": draw(st.sampled_from(["message", "service"])),
               "date": "2024-03-01T09:01:00", "date_unixtime": "1709283660", "from": "Военный канал",
               "from_id": "channel777", "text": draw(texts), "text_entities": []}
    media = draw(st.sampled_from([{}, {"photo": "photos/ok.jpg"}, {"file": "video_files/clip.mp4",
                                                                   "media_type": "video_file"}]))
    message.update(media)
    how = draw(st.sampled_from(["as written", "odd values", "fields dropped", "not a message"]))
    if how == "odd values":
        message.update(draw(st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=3)))
    elif how == "fields dropped":
        for key in draw(st.sets(st.sampled_from(sorted(message)), min_size=1, max_size=3)):
            message.pop(key)
    return draw(json_values) if how == "not a message" else message


@st.composite
def damaged(draw: Any, text: str, junk: list[str]) -> str:
    """`text` truncated, spliced with junk or deep nesting, or left whole."""
    how = draw(st.sampled_from(["whole", "whole", "whole", "truncate", "junk", "deep", "cut"]))
    at = int(len(text) * draw(st.floats(0, 1)))   # integers() would favour 0
    if how == "truncate":
        return text[:at]
    if how == "junk":
        return text[:at] + draw(st.sampled_from(junk) | st.text(max_size=20)) + text[at:]
    if how == "deep":
        depth = draw(st.sampled_from([40, 1_200, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ("<b>", "</b>"), ("<div>", "</div>")]))
        return text[:at] + opener * depth + closer * depth * draw(st.integers(0, 1)) + text[at:]
    if how == "cut":
        return text[:at] + text[at + int((len(text) - at) * draw(st.floats(0, 1))):]
    return text


@st.composite
def export_documents(draw: Any) -> bytes:
    """result.json bytes: a chat or a full-account export, maybe damaged, maybe not valid UTF-8."""
    chat = {"name": draw(mostly("Военный канал", scalars)), "type": "public_channel", "id": draw(mostly(777, scalars)),
            "messages": draw(mostly(st.lists(export_messages(), max_size=6), json_values))}
    document: Any = chat
    if draw(st.booleans()):
        chats = st.lists(mostly(chat, json_values), max_size=3)
        section = mostly(st.fixed_dictionaries({"about": st.just("x"), "list": mostly(chats, json_values)}), json_values)
        document = {"about": "export", "chats": draw(section), "left_chats": draw(section)}
    text = json.dumps(document, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))
    text = draw(damaged(text, ["\\ud800", '"id": 7', '{"id": 5, "text": "', "\\u12", "9" * 5000, "\x00", "\ud800"]))
    return text.encode("utf-8", "surrogatepass")   # a lone surrogate left unescaped becomes invalid UTF-8


URLS = ["https://cdn4.telesco.pe/file/x.jpg", "//cdn/x.jpg", "javascript:alert(1)", "data:image/png;base64,AA", "",
        "http://[", "http://[::1", "https://t.me/chan/" + "9" * 5000, "?q=%23tag", "\x00", "https://t.me/chan/١٢",
        "https://t.me/chan/12", "http://a b/c", "https://example.org:99999/x", "https://t.me/chan/12/"]
WORDS = ["", " ", "\x00", "\u202eтекст", "😀", "Полонений:", "x" * 5000, "&amp;", "&#0;", "<b>", "]]>", "\t\n",
         "<i>" * 1500 + "deep"]
DATES = ["2024-01-02T03:04:05+02:00", "", "garbage", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
         "2024-13-01", "2024-01-02T03:04:05", "2024-01-02T03:04:05Z", "2024-01-02T25:00:00+00:00"]
VIEWS = ["2", "1.2K", "436.6K", "3.1M", "", "many", "1.2.3K", "9" * 5000, "1,2,3", "..K", "٣K", ",", "1B"]
POST_IDS = ["chan/123", "chan/", "/5", "chan/0", "chan/²", "chan/" + "9" * 5000, "a/b/7", "", "chan/-1", "chan/１２"]
PARTS = {
    "text": '<div class="tgme_widget_message_text js-message_text" dir="auto">{t}<br/><a href="{u}">{t}</a>'
            "<b>{t}</b><pre>{t}</pre></div>",
    "photo": '<a class="tgme_widget_message_photo_wrap" href="{u}" style="width:100px;background-image:url(\'{u}\')">'
             "</a>",
    "video": '<a class="tgme_widget_message_video_player" href="{u}"><i class="tgme_widget_message_video_thumb" '
             'style="background-image:url(\'{u}\')"></i><video src="{u}" class="tgme_widget_message_video"></video>'
             '<div class="message_media_not_supported_label">{t}</div></a>',
    "round": '<div class="tgme_widget_message_roundvideo_player"><i class="tgme_widget_message_roundvideo_thumb" '
             'style="background-image:url({u})"></i><video class="tgme_widget_message_roundvideo" src="{u}"></video>'
             "</div>",
    "voice": '<div class="tgme_widget_message_voice_player"><audio class="tgme_widget_message_voice" src="{u}">'
             "</audio></div>",
    "document": '<a class="tgme_widget_message_document_wrap" href="{u}"><div class="tgme_widget_message_document_icon'
                ' audio"></div><div class="tgme_widget_message_document_title">{t}</div>'
                '<div class="tgme_widget_message_document_extra">{t}</div></a>',
    "sticker": '<div class="tgme_widget_message_sticker_wrap"><i class="tgme_widget_message_sticker" data-webp="{u}">'
               '</i><video src="{u}"></video></div>',
    "preview": '<a class="tgme_widget_message_link_preview" href="{u}"><div class="link_preview_site_name">{t}</div>'
               '<div class="link_preview_title">{t}</div><i class="link_preview_image" style="background-image:url'
               '(\'{u}\')"></i><video class="link_preview_video" src="{u}"></video></a>',
    "poll": '<div class="tgme_widget_message_poll"><div class="tgme_widget_message_poll_question">{t}</div>'
            '<div class="tgme_widget_message_poll_type">{t}</div><div class="tgme_widget_message_poll_option_text">'
            "{t}</div></div>",
    "forward": '<div class="tgme_widget_message_forwarded_from">Forwarded from <a class="tgme_widget_message_'
               'forwarded_from_name" href="{u}">{t}</a></div>',
    "reply": '<a class="tgme_widget_message_reply" href="{u}"><div class="tgme_widget_message_text">{t}</div></a>',
    "location": '<a class="tgme_widget_message_location_wrap" href="{u}"></a>',
    "meta": '<div class="tgme_widget_message_footer"><span class="tgme_widget_message_views">{v}</span>'
            '<span class="tgme_widget_message_meta"><span class="tgme_widget_message_from_author">{t}</span>, edited '
            '<a class="tgme_widget_message_date" href="{u}"><time datetime="{d}" class="time">{t}</time></a></span>'
            "</div>",
}


@st.composite
def tme_posts(draw: Any) -> str:
    """One post in the markup t.me/s serves, its parts and values drawn from odd cases."""
    def value(options: list[str]) -> str:   # the real value (first) three times in four
        return draw(mostly(options[0], st.sampled_from(options) | st.text(max_size=12))).replace('"', "&quot;")

    parts = ["text", *draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=5))]
    body = "".join(PARTS[p].format(t=value(WORDS), u=value(URLS), v=value(VIEWS), d=value(DATES))
                   for p in parts)
    cls = draw(st.sampled_from(["", " service_message", " js-widget_message"]))
    return (f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message{cls}" data-post="{value(POST_IDS)}">'
            f'<div class="tgme_widget_message_bubble">{body}</div></div></div>')


@st.composite
def tme_pages(draw: Any) -> str:
    posts = "".join(draw(st.lists(tme_posts(), max_size=4)))
    empty = draw(st.sampled_from(["", '<div class="tme_no_messages_found">No posts found</div>']))
    page = f'<html><body><section class="tgme_channel_history">{posts}{empty}</section></body></html>'
    return draw(damaged(page, ["\x00", "\ud800", "&#0;", "&#xD800;", "<", "<!--", "<![CDATA[", "</div>" * 5]))


HEADERS = [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
           b"GIF89a\x01\x00\x01\x00", b"RIFF\x24\x00\x00\x00WEBPVP8 ", b"RIFF\x24\x00\x00\x00WAVEfmt ",
           b"RIFF\x24\x00\x00\x00AVI LIST", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
           b"\x00\x00\x00\x14ftypqt  ", b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x1cftypavif", b"\x00\x00\x00\x20ftypM4A ",
           b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\x82\x84webm",
           b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead", b"ID3\x04\x00\x00\x00\x00\x00\x00", b"\xff\xfb\x90\x00",
           b"fLaC\x00\x00\x00\x22", b"%PDF-1.7\n", b"PK\x03\x04\x14\x00", b"\x1f\x8b\x08\x00", b"II*\x00", b"MM\x00*",
           b"BM\x36\x00", b"\x00\x00\x01\x00", b"\x7fELF\x02\x01", b"MZ\x90\x00", b"SQLite format 3\x00",
           b"<!DOCTYPE html><html><head>", b'{"a": [1, 2]}', b"#EXTM3U\n#EXT-X-VERSION:3\n", b"WEBVTT\n\n00:00.000",
           b"\xef\xbb\xbf<html>", b"\xff\xfe<\x00h\x00", "Пленные рассказали".encode()]


@st.composite
def file_heads(draw: Any) -> tuple[bytes, str]:
    """A file's first bytes: a real header truncated, extended, bit-flipped, or random bytes; and a name hint."""
    head = draw(st.sampled_from(HEADERS)) if draw(st.integers(0, 4)) else b""
    head = head[:draw(st.integers(0, len(head)))] + draw(st.binary(max_size=600))
    if head and draw(st.booleans()):
        flipped = bytearray(head)
        for at in draw(st.lists(st.integers(0, len(head) - 1), max_size=4)):
            flipped[at] ^= 1 << draw(st.integers(0, 7))
        head = bytes(flipped)
    return head, draw(st.sampled_from(["", "jpg", "HTML", "txt", "..", "\ud800"]) | st.text(max_size=5))


@dataclass
class TargetReport:
    inputs: int = 0
    crashes: int = 0
    seconds: float = 0.0
    kinds: dict[str, dict[str, str]] = field(default_factory=dict)   # "Type at file:line" -> message, input
    outcomes: dict[str, int] = field(default_factory=dict)            # what the inputs led to, when not a crash


class _Enough(Exception):
    """Raised inside the hypothesis test to end a target when its time is up."""


def _record(report: TargetReport, exc: BaseException, sample: Any, save: Path | None, target: str) -> None:
    report.crashes += 1
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(REPO)) and "/.venv/" not in f.filename
            and f.filename != __file__]
    frame = (ours or frames)[-1]    # the deepest line of Svidok's own code, where there is one
    kind = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})"
    if kind not in report.kinds:
        shown = sample if isinstance(sample, (bytes, tuple)) else sample.encode("utf-8", "surrogatepass")
        report.kinds[kind] = {"message": str(exc)[:200], "input": repr(shown)[:400]}
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"{target}-{len(report.kinds)}.repr").write_text(repr(sample), encoding="utf-8")


def _tdesktop_target(scratch: Path) -> Callable[[bytes], str]:
    from svidok.collectors.tdesktop_export import ExportError, TelegramDesktopExport
    from svidok.foundation.workspace import Workspace
    from svidok.pipeline import run_collector

    export, workspace = scratch / "export", Workspace.create(scratch / "ws")
    for folder in ("photos/dir", "video_files"):
        (export / folder).mkdir(parents=True, exist_ok=True)
    (export / "photos/ok.jpg").write_bytes(HEADERS[0] + b"\x00" * 64 + b"\xff\xd9")
    (export / "video_files/clip.mp4").write_bytes(HEADERS[6] + b"\x00" * 64)
    (scratch / "outside.jpg").write_bytes(HEADERS[0])
    os.symlink(scratch / "outside.jpg", export / "photos/out.jpg")
    os.symlink("loop.jpg", export / "photos/loop.jpg")

    def run(raw: bytes) -> str:
        (export / "result.json").write_bytes(raw)
        try:
            done = run_collector(workspace, TelegramDesktopExport(export))
        except ExportError:
            return "one clear error for the export (ExportError)"
        saved = done.items + done.duplicates + done.updated
        return f"{'items archived' if saved else 'no item'}, {'problems reported' if done.errors else 'no problem'}"
    return run


def _tme_target(html: str) -> str:
    from svidok.collectors.tme_parse import parse_page

    page = parse_page(html)
    json.dumps([post.as_dict() for post in page.posts], ensure_ascii=False).encode("utf-8")
    return f"{'posts' if page.posts else 'no post'}, {'problems reported' if page.problems else 'no problem'}"


def _mime_target(sample: tuple[bytes, str]) -> str:
    from svidok.foundation.mime import sniff

    mime, ext = sniff(*sample)
    if not (isinstance(mime, str) and "/" in mime and isinstance(ext, str)):
        raise AssertionError(f"sniff returned {(mime, ext)!r}")
    return mime.split("/")[0]


def run_target(name: str, examples: int, seconds: float, seed: int, scratch: Path,
               save: Path | None = None) -> TargetReport:
    """Feed `examples` generated inputs (or as many as fit in `seconds`) to one target."""
    strategy, target = {"tdesktop": (export_documents(), None), "tme": (tme_pages(), _tme_target),
                        "mime": (file_heads(), _mime_target)}[name]
    target = target or _tdesktop_target(scratch)
    report, start = TargetReport(), time.monotonic()

    @hypothesis.seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(sample: Any) -> None:
        if time.monotonic() - start > seconds:
            raise _Enough
        report.inputs += 1
        try:
            outcome = target(sample)
            report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        except Exception as exc:  # noqa: BLE001 - every undocumented exception is a finding
            _record(report, exc, sample, save, name)

    try:
        fuzz()
    except _Enough:
        pass
    report.seconds = round(time.monotonic() - start, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per target (at most)")
    parser.add_argument("--seconds", type=float, default=300.0, help="time per target (at most)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default="tdesktop,tme,mime")
    parser.add_argument("--save", type=Path, default=None, help="write each distinct crash's full input here")
    args = parser.parse_args()
    summary: dict[str, Any] = {"hypothesis": hypothesis.__version__, "seed": args.seed, "targets": {}}
    with tempfile.TemporaryDirectory(prefix="svidok-fuzz-") as scratch:
        for name in args.targets.split(","):
            report = run_target(name, args.examples, args.seconds, args.seed, Path(scratch) / name, args.save)
            summary["targets"][name] = asdict(report)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 1 if any(t["crashes"] for t in summary["targets"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
