"""Score `collectors.tme_parse` on the shared t.me/s snippets.

1. ../shared/data/telegram/tme_s_tchan: every snippet with a ground-truth post
   (PythonicCafe/tchan's expected values) is parsed and compared field by field:
   id, created_at, text, views, edited, author (also forwarded_from, link preview title).
   `text` is scored twice: exactly, and ignoring whitespace (tchan puts every text node of
   a post on its own line; Svidok keeps the post's own line breaks and joins inline runs).
   A missing text (null) equals the empty string.
2. ../shared/data/telegram/tme_s_any2feed: every fragment must parse without an exception;
   posts and attachments found are counted.

Usage: .venv/bin/python benchmarks/eval_tme_parse.py [--data DIR] [--json]
Prints a markdown table; exit code 1 when a ground-truth field is below 100 % or a fragment fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsel import Selector  # noqa: E402

from svidok.collectors.tme_parse import TmePost, parse_media, parse_page  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "telegram"
CORE_FIELDS = ("id", "created_at", "text", "text_exact", "views", "edited", "author")
EXTRA_FIELDS = ("forwarded_author", "preview_title", "media_urls", "empty_page")


@dataclass
class Score:
    hits: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def add(self, name: str, ok: bool, where: str, got: Any = None, want: Any = None) -> None:
        self.totals[name] = self.totals.get(name, 0) + 1
        self.hits[name] = self.hits.get(name, 0) + int(ok)
        if not ok:
            self.misses.append(f"{where}: {name}: got {got!r}, expected {want!r}")


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _observed(post: TmePost) -> dict[str, Any]:
    return {"id": post.id, "created_at": post.posted_at, "text": post.text, "text_exact": post.text,
            "views": post.views, "edited": post.edited, "author": post.author,
            "forwarded_author": post.forwarded_from,
            "preview_title": post.link_preview.title if post.link_preview else None,
            "media_urls": sorted(m.url for m in post.media if m.url and m.role in _TCHAN_ROLES)}


# tchan's url kinds for attachments the page lets one download (emoji images and thumbnails left out)
_TCHAN_KINDS = {"photo", "video", "round-video", "audio"}
_TCHAN_ROLES = {"photo", "video", "round_video", "voice", "sticker"}


def _tchan_media(expected: dict[str, Any]) -> list[str]:
    return sorted(url for kind, url in expected.get("urls", []) if kind in _TCHAN_KINDS and "/img/emoji/" not in url)


def score_tchan(folder: Path, score: Score) -> int:
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    cases = 0
    for case in truth["cases"]:
        expected = case["expected"]
        if expected == []:  # a page that says "No posts found"
            page = parse_page((folder / case["fixture"]).read_text(encoding="utf-8"))
            score.add("empty_page", not page.posts and page.says_no_posts, case["fixture"], len(page.posts), 0)
            continue
        if not isinstance(expected, dict) or expected.get("__call__") != "ChannelMessage":
            continue
        cases += 1
        page = parse_page((folder / case["fixture"]).read_text(encoding="utf-8"))
        if not page.posts:
            for name in CORE_FIELDS:
                score.add(name, False, case["fixture"], "no post parsed", "a post")
            continue
        got = _observed(page.posts[0])
        want = dict(expected, text_exact=expected.get("text"), forwarded_author=expected.get("forwarded_author"),
                    preview_title=expected.get("preview_title"), media_urls=_tchan_media(expected))
        for name in CORE_FIELDS + EXTRA_FIELDS[:3]:
            if name == "text":
                ok = _squash(got[name]) == _squash(want[name])
            elif name == "text_exact":
                ok = (got[name] or "") == (want[name] or "")
            else:
                ok = got[name] == want[name]
            score.add(name, ok, case["fixture"], got[name], want[name])
    return cases


def check_any2feed(folder: Path) -> tuple[int, int, int, list[str]]:
    files = sorted(folder.glob("*.html"))
    posts = media = 0
    failures: list[str] = []
    for path in files:
        try:
            html = path.read_text(encoding="utf-8")
            page = parse_page(html)
            found = page.posts or []
            posts += len(found)
            media += sum(len(p.media) for p in found) if found else len(parse_media(Selector(text=html)))
            failures.extend(f"{path.name}: {p}" for p in page.problems)
        except Exception as exc:  # the benchmark counts any crash as a failure
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
    return len(files), posts, media, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    score = Score()
    cases = score_tchan(args.data / "tme_s_tchan", score)
    n_files, posts, media, failures = check_any2feed(args.data / "tme_s_any2feed")
    if args.json:
        print(json.dumps({"cases": cases, "hits": score.hits, "totals": score.totals, "misses": score.misses,
                          "any2feed": {"files": n_files, "posts": posts, "media": media, "failures": failures}}))
    else:
        print(f"tchan ground truth: {cases} posts\n")
        print("| field | correct | accuracy |\n|---|---|---|")
        for name in CORE_FIELDS + EXTRA_FIELDS:
            hit, total = score.hits.get(name, 0), score.totals.get(name, 0)
            print(f"| {name} | {hit}/{total} | {100 * hit / max(total, 1):.1f} % |")
        print(f"\nany2feed fragments: {n_files - len({f.split(':')[0] for f in failures})}/{n_files} parsed without"
              f" error; {posts} posts, {media} attachments found")
        for line in score.misses + failures:
            print(f"- {line}", file=sys.stderr)
    core_ok = all(score.hits.get(n, 0) == score.totals.get(n, 0) for n in CORE_FIELDS if n != "text_exact")
    return 0 if core_ok and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
