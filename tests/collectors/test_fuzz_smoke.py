"""A short run of benchmarks/fuzz_inputs.py (100 generated inputs per target): no crash.

The full campaign (1,000+ inputs per target) and its figures are in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
FUZZ_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_inputs.py"


def _fuzz_module():
    if "fuzz_inputs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("fuzz_inputs", FUZZ_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["fuzz_inputs"] = module
        spec.loader.exec_module(module)
    return sys.modules["fuzz_inputs"]


# Crash kinds accepted for now: (exception, function) per target. Anything the short run finds fails the test.
KNOWN_CRASHES: dict[str, set[tuple[str, str]]] = {}


@pytest.mark.parametrize("target", ["tdesktop", "tme", "mime"])
def test_fuzz_targets_do_not_crash(target, tmp_path):
    report = _fuzz_module().run_target(target, examples=100, seconds=120, seed=0, scratch=tmp_path)
    assert report.inputs == 100
    # a crash kind reads "RecursionError at tme_parse.py:171 (walk)"
    new = {kind: found for kind, found in report.kinds.items()
           if (kind.split()[0], kind.rsplit("(", 1)[-1].rstrip(")")) not in KNOWN_CRASHES.get(target, set())}
    assert new == {}


TME_POST = '<div class="tgme_widget_message" data-post="chan/5"><div class="tgme_widget_message_text">{}</div></div>'


@pytest.mark.parametrize("html", [
    TME_POST.format("<b>" * 1500 + "x"),                 # nesting deeper than Python's recursion limit
    '{"a":' * 2000,                                      # parsel sees JSON, not HTML: RecursionError
    "[1, 2]",                                            # parsel sees JSON: ValueError from .css()
    TME_POST.format("\ud800"),                           # lone surrogate: UnicodeEncodeError in parsel
], ids=["deep-markup", "deep-json-looking", "json-looking", "lone-surrogate"])
def test_tme_parse_inputs_the_fuzzer_once_crashed_it_on(html):
    """Found by benchmarks/fuzz_inputs.py: each raised out of parse_page; now a page (at most a post) each."""
    from svidok.collectors.tme_parse import parse_page

    page = parse_page(html)
    assert len(page.posts) <= 1 and all(post.channel == "chan" for post in page.posts)
