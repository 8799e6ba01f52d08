"""Find a matched name in a transcript line, tolerating Ukrainian/Russian case endings."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

WORD = re.compile(r"\w+", re.UNICODE)


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-2] if len(word) > 5 else word[:-1] if len(word) > 3 else word


def find_name(text: str, names: list[str]) -> list[tuple[int, int]]:
    """Character spans of words in `text` whose stem matches a word of one of `names`."""
    stems = {_stem(w) for name in names for w in WORD.findall(name) if len(w) > 2}
    spans = [(m.start(), m.end()) for m in WORD.finditer(text) if any(m.group().lower().startswith(s) for s in stems)]
    return spans


def mark(text: str, spans: list[tuple[int, int]]) -> Markup:
    """The text, HTML-escaped, with each span wrapped in <mark>."""
    out, pos = [], 0
    for start, end in sorted(spans):
        out += [str(escape(text[pos:start])), f"<mark>{escape(text[start:end])}</mark>"]
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
