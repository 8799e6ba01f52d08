"""Russian and Ukrainian text, normalised once for search, name matching and highlighting.

Two keys, one module:

- **search stems** (`stem`, `stems`, `query_stems`): lower case, ё→е, ґ→г, apostrophes removed,
  then the longest common RU/UK inflection ending stripped (a stem keeps at least 3 letters),
  so "плен", "в плену" and "пленные" share a stem. The full-text index
  (`svidok.analyzers.text_index`) stores and queries these.
- **name keys** (`name_key`, `name_stem`, `CASE_ENDINGS`, `is_name_form`): transliterate to
  Latin, then fold the spellings transliteration systems disagree on, so Петренко, Petrenko and
  PETRENKO share a key; a case form (Петренка, Петренкові) is a key's stem plus one of
  `CASE_ENDINGS`. Name matching (`svidok.matching`) and the highlighting of a heard name
  (`find_name`) use these.
"""

from __future__ import annotations

import re
from functools import lru_cache

# ---------------------------------------------------------------- search stems (Cyrillic)

STEM_VERSION = 1
MIN_STEM = 3
_ENDINGS = sorted({
    # Russian nouns, adjectives, verbs
    "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ых", "их", "ой", "ей", "ий", "ый",
    "ая", "яя", "ое", "ее", "ую", "юю", "ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев", "ью", "ие", "ые",
    "ия", "ья", "ться", "ть", "ешь", "ет", "ют", "ут", "ит", "ат", "ят", "ил", "ла", "ли", "ло", "ся", "сь",
    # Ukrainian
    "ові", "еві", "єві", "ої", "ій", "їй", "ею", "єю", "ів", "їв", "ти", "ться",
    # single vowels and soft signs
    "а", "я", "о", "е", "у", "ю", "ы", "и", "і", "ї", "є", "ь", "й",
}, key=len, reverse=True)
_WORD = re.compile(r"[\w'’ʼ]+", re.UNICODE)
_APOSTROPHES = str.maketrans({"'": None, "’": None, "ʼ": None, "ё": "е", "ґ": "г"})


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """The normalised stem of one word (see the module docstring)."""
    word = word.lower().translate(_APOSTROPHES)
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def stems(text: str) -> str:
    return " ".join(stem(w) for w in words(text))


def query_stems(query: str) -> list[str]:
    """Query words stemmed twice: "Харькова" → "харьков" → "харьк" also finds "Харьков" (stem "харьк")."""
    return [stem(stem(w)) for w in words(query)]

# ---------------------------------------------------------------- name keys (Latin folding)

# Ukrainian national system (KMU 2010) for Ukrainian letters; Russian-only letters as in
# common passport/BGN practice. Word-initial є/ї/й/ю/я (ye, yi, y, yu, ya) fold to the same key.
CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "ё": "io", "ы": "y",
    "э": "e", "ъ": "", "'": "", "’": "", "ʼ": "",
}
_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_RU_ONLY = {"ё", "ы", "э", "ъ"}
_RU_LETTERS = {"г": "g", "и": "i", "й": "y", "х": "kh", "е": "e", "я": "ya", "ю": "yu", "ё": "yo"}

# Noun case endings (folded) that may follow a name stem: genitive, dative, instrumental,
# locative, vocative in Ukrainian and Russian.
CASE_ENDINGS = ("", "a", "u", "om", "ovi", "evi", "e", "i", "o", "oi", "omu", "oho", "ovo", "im", "ih",
                "em", "ei", "ia", "iu", "ou", "ym")


def transliterate(text: str, system: str = "auto") -> str:
    """Cyrillic to Latin: system "uk" (national 2010), "ru" (passport style) or "auto"."""
    russian = system == "ru" or (system == "auto" and _looks_russian(text))
    table = {**CYR_TO_LAT, **_RU_LETTERS} if russian else CYR_TO_LAT
    out, start = [], True
    for ch in text:
        low = ch.lower()
        if low in table:
            lat = _INITIAL[low] if start and low in _INITIAL and not russian else table[low]
            out.append(lat.capitalize() if ch != low and lat else lat)
            start = False
        else:
            out.append(ch)
            start = not ch.isalpha()
    return "".join(out)


def _looks_russian(text: str) -> bool:
    lowered = text.lower()
    return any(ch in _RU_ONLY for ch in lowered) or ("и" in lowered and "і" not in lowered
                                                    and "ї" not in lowered and "є" not in lowered)


_FOLDS = (("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("kh", "h"), ("x", "ks"), ("w", "v"), ("ph", "f"),
          ("ck", "k"), ("q", "k"), ("tz", "c"), ("ts", "c"), ("g", "h"))


@lru_cache(maxsize=65536)
def name_key(word: str) -> str:
    """A spelling-independent key: the same for Петренко, Petrenko, PETRENKO."""
    text = transliterate(word.strip()).lower()
    text = re.sub(r"[^a-z]", "", text)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = re.sub(r"[iyj]+", "i", text)
    text = re.sub(r"^i(?=[aeou])", "", text)
    text = re.sub(r"(?<=[aeou])i(?=[aeou])", "", text)
    return re.sub(r"(.)\1+", r"\1", text)


def name_stem(key: str) -> str:
    """Drop a final vowel so case endings can follow (petrenko → petrenk)."""
    return key[:-1] if len(key) > 3 and key[-1] in "aeiou" else key

# Words of a name: letters of the Latin and Cyrillic alphabets and apostrophes.
NAME_WORD = re.compile(r"[A-Za-zА-Яа-яЁёЄєІіЇїҐґ'’ʼ]+")


def is_name_form(token_key: str, key: str) -> bool:
    """Whether a text word's key is `key` itself or a case form of it (stem + case ending)."""
    base = name_stem(key)
    return any(token_key in (base + ending, key + ending) for ending in CASE_ENDINGS)


def find_name(text: str, names: list[str]) -> list[tuple[int, int]]:
    """Character spans of the words of `text` that are a form of a word (3+ letters) of one of `names`."""
    keys = {name_key(w) for name in names for w in NAME_WORD.findall(name) if len(w) > 2}
    keys.discard("")
    return [(m.start(), m.end()) for m in NAME_WORD.finditer(text)
            if any(is_name_form(name_key(m.group()), key) for key in keys)]
