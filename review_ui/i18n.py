"""UI translations: gettext catalogues in review_ui/locales/<lang>/LC_MESSAGES/messages.po.

The .po files are the source of truth (compiled .mo files are not committed): at start-up each
catalogue is read with Babel and compiled in memory. English is the source language.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = {"uk": "Українська", "en": "English"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def pick_language(accept_language: str | None) -> str:
    """Language for someone not logged in, from the browser's Accept-Language."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "uk"
