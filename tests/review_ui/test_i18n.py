"""The UI speaks Ukrainian and English, switchable per user; every UI string is translated."""

from __future__ import annotations

import re
from pathlib import Path

from svidok.review_ui.i18n import LOCALES, translations

UI = Path(__file__).resolve().parents[2] / "review_ui"
LITERAL = re.compile(r'_\("((?:[^"\\]|\\.)*)"\)')


def test_every_ui_string_has_a_ukrainian_translation():
    from babel.messages.pofile import read_po

    with (LOCALES / "uk/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    sources = [*UI.glob("templates/*.html"), *UI.glob("views/*.py")]
    used = {m for path in sources for m in LITERAL.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 80
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []
    for msgid in ("pending", "confirmed", "conflict", "reviewer", "case-officer", "face", "name"):
        assert translations("uk").gettext(msgid) != msgid


def test_language_follows_the_user_setting(seeded, client_for):
    client = client_for("rev1")
    assert "Черга перевірки" in client.get("/queue").text                 # default: Ukrainian
    client.post("/settings", data={"csrf": client.csrf, "lang": "en", "shield": "on"})
    page = client.get("/queue").text
    assert "Review queue" in page and "Черга перевірки" not in page and '<html lang="en">' in page
    assert "Черга перевірки" in client_for("rev2").get("/queue").text    # per user


def test_trauma_aware_display_is_a_per_user_setting(seeded, client_for):
    client = client_for("rev1")
    sid = seeded.sightings["video"]
    page = client.get(f"/sightings/{sid}").text
    assert 'class="shield-on"' in page and " muted" in page
    client.post("/settings", data={"csrf": client.csrf, "lang": "uk"})          # checkbox unticked
    page = client.get(f"/sightings/{sid}").text
    assert 'class="shield-off"' in page and " muted" not in page
    assert 'class="shield-on"' in client_for("rev2").get(f"/sightings/{sid}").text


def test_login_page_language_comes_from_the_browser(seeded, client_for):
    anonymous = client_for(None)
    assert "Увійти" in anonymous.get("/login", headers={"Accept-Language": "uk-UA,uk;q=0.9"}).text
    assert "Log in" in anonymous.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
