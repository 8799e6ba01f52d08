"""The human-readable summary (HTML, self-contained) placed in every evidence package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


def render_summary(doc: dict[str, Any], custody: dict[str, Any], files: list[Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("summary.html").render(doc=doc, custody=custody, files=files)
