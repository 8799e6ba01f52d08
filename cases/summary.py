"""The human-readable summary of an evidence package, in Ukrainian and English, as HTML and PDF.

`write_summary` renders `templates/summary.html` (sightings in `_sighting.html`, consent,
notes and custody in `_custody.html`) from the package's own records into `data/summary.html`,
whose images are the package's files by relative link, and into `data/summary.pdf` with
WeasyPrint, which may read only files inside `data/` (no network, nothing else on disk) and
gets no links, so that no local path reaches the PDF.

Reference photos are shown zoomed to the face the enrolment found, at the same height as the
matched face crops, so a reader compares faces at one scale; the whole photo is shown with the
consent it came under.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from svidok.cases import wording

TEMPLATES = Path(__file__).parent / "templates"
FACE_PX = 150                       # height of a face, reference or crop, in the summary
FACE_MARGIN = 0.3                   # share of the face box shown around a reference face


def write_summary(data_dir: Path, doc: dict[str, Any], custody: dict[str, Any], consents: list[dict[str, Any]],
                  files: list[dict[str, Any]]) -> None:
    """Write data/summary.html and data/summary.pdf."""
    context = {"doc": doc, "custody": custody, "consents": consents, "files": files,
               "zoom": {r["id"]: _zoom(data_dir, r) for r in doc["references"]}}
    (data_dir / "summary.html").write_text(render(context, pdf=False), encoding="utf-8")
    _write_pdf(render(context, pdf=True), data_dir, data_dir / "summary.pdf")


def render(context: dict[str, Any], pdf: bool) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update({"clock": wording.clock, "marked": marked, "ts": wording.moment})
    return env.get_template("summary.html").render(
        **context, pdf=pdf, L=wording.LABELS, STEPS=wording.STEPS, FEATURES=wording.FEATURES,
        ASSESSMENTS=wording.ASSESSMENTS, VERDICTS=wording.VERDICTS, face_px=FACE_PX)


def marked(text: str, spans: list[list[int]]) -> Markup:
    """Text with the given character spans (the name heard) in <mark>, the rest escaped."""
    out, last = Markup(""), 0
    for start, end in sorted(spans):
        out += escape(text[last:start]) + Markup("<mark>") + escape(text[start:end]) + Markup("</mark>")
        last = end
    return out + escape(text[last:])


def _zoom(data_dir: Path, ref: dict[str, Any]) -> dict[str, float] | None:
    """CSS geometry showing the reference photo's face box (with a margin) FACE_PX high."""
    box = ref.get("box")
    if not box or len(box) != 4:
        return None
    try:
        from PIL import Image

        with Image.open(data_dir / ref["file"].removeprefix("data/")) as image:
            width, height = image.size
    except (OSError, ValueError):
        return None
    top, right, bottom, left = box
    face_h, face_w = max(1, bottom - top), max(1, right - left)
    top, left = max(0, top - FACE_MARGIN * face_h), max(0, left - FACE_MARGIN * face_w)
    shown_h = min(height - top, face_h * (1 + 2 * FACE_MARGIN))
    shown_w = min(width - left, face_w * (1 + 2 * FACE_MARGIN))
    scale = FACE_PX / shown_h
    return {"box_w": round(shown_w * scale), "box_h": FACE_PX, "img_w": round(width * scale),
            "left": round(-left * scale), "top": round(-top * scale)}


def _write_pdf(html: str, data_dir: Path, target: Path) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=data_dir.resolve().as_uri() + "/",
         url_fetcher=_fetcher_inside(data_dir)).write_pdf(target)


def _fetcher_inside(data_dir: Path):
    """A WeasyPrint fetcher that serves only files under `data_dir`."""
    from weasyprint.urls import URLFetcher

    root = data_dir.resolve().as_uri() + "/"

    class InsideBag(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(root) or "/../" in url:
                raise ValueError(f"the summary may only use the package's own files, not {url}")
            return super().fetch(url, headers)

    return InsideBag(allowed_protocols={"file"})
