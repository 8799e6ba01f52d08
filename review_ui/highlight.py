"""Mark the spans of a matched name (found by `svidok.foundation.text.find_name`) in HTML."""

from __future__ import annotations

from markupsafe import Markup, escape


def mark(text: str, spans: list[tuple[int, int]]) -> Markup:
    """The text, HTML-escaped, with each span wrapped in <mark>."""
    out, pos = [], 0
    for start, end in sorted(spans):
        out += [str(escape(text[pos:start])), f"<mark>{escape(text[start:end])}</mark>"]
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
