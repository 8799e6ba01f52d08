"""Names across scripts: Cyrillic→Latin transliteration, a phonetic key, and name parts.

The same person is written Олександр Петренко (Ukrainian), Александр Петренко (Russian),
Oleksandr Petrenko (Ukrainian national transliteration, 2010) and Aleksandr Petrenko (Russian
passport/BGN style). Matching goes through `name_key()`: transliterate to Latin, then fold
the spellings the systems disagree on (г=h/g, х=kh/h/x, и/і/й/ы=i/y/j, я=ya/ia, щ=shch/sch,
doubled letters) into one key. Ukrainian and Russian first names that are the same name
(Олександр/Александр, Сергій/Сергей) are joined through `FIRST_NAME_GROUPS`. Case forms
(Петренка, Петренку, Олександром) are a stem plus one of `CASE_ENDINGS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

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

FIRST_NAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Олександр", "Александр", "Alexander", "Aleksander", "Alexandr"),
    ("Олександра", "Александра", "Alexandra"),
    ("Олексій", "Алексей", "Alexey", "Alexei"), ("Сергій", "Сергей", "Sergey", "Sergei"),
    ("Андрій", "Андрей", "Andrey", "Andrei"), ("Дмитро", "Дмитрий", "Dmitry", "Dmitriy"),
    ("Микола", "Николай", "Nikolay", "Nikolai"), ("Володимир", "Владимир", "Vladimir"),
    ("Віктор", "Виктор"), ("Юрій", "Юрий", "Yuri", "Yury"), ("Іван", "Иван"),
    ("Петро", "Пётр", "Петр", "Pyotr", "Petr"), ("Павло", "Павел", "Pavel"),
    ("Михайло", "Михаил", "Mikhail"), ("Олег", "Олег", "Oleg"), ("Василь", "Василий", "Vasily"),
    ("Євген", "Евгений", "Yevgeny", "Evgeny", "Evgenii"), ("Євгенія", "Евгения"),
    ("Ігор", "Игорь", "Igor"), ("Віталій", "Виталий", "Vitaly"), ("Анатолій", "Анатолий"),
    ("Григорій", "Григорий"), ("Валерій", "Валерий"), ("Геннадій", "Геннадий"),
    ("Костянтин", "Константин", "Konstantin"), ("Леонід", "Леонид"), ("Ілля", "Илья", "Ilya"),
    ("Федір", "Фёдор", "Федор", "Fedor", "Fyodor"), ("Яків", "Яков"), ("Кирило", "Кирилл", "Kirill"),
    ("Артем", "Артём"), ("Станіслав", "Станислав"), ("Ярослав", "Ярослав"), ("Степан", "Степан"),
    ("Богдан", "Богдан"), ("Тарас", "Тарас"), ("Максим", "Максим"), ("Роман", "Роман"),
    ("Денис", "Денис"), ("Антон", "Антон"), ("Руслан", "Руслан"), ("Вадим", "Вадим"),
    ("Назар", "Назар"), ("Остап", "Остап"), ("Петро", "Петя"), ("Мирослав", "Мирослав"),
    ("Олена", "Елена", "Yelena", "Elena"), ("Ольга", "Ольга"), ("Наталія", "Наталья", "Наталия"),
    ("Тетяна", "Татьяна", "Tatiana"), ("Ірина", "Ирина"), ("Марія", "Мария", "Maria"),
    ("Ганна", "Анна", "Hanna", "Anna"), ("Катерина", "Екатерина"), ("Юлія", "Юлия"),
    ("Світлана", "Светлана"), ("Людмила", "Людмила"), ("Галина", "Галина"), ("Оксана", "Оксана"),
    ("Валентина", "Валентина"), ("Надія", "Надежда"), ("Любов", "Любовь"), ("Софія", "София"),
)

# Noun case endings (folded) that may follow a name stem: genitive, dative, instrumental,
# locative, vocative in Ukrainian and Russian.
CASE_ENDINGS = ("", "a", "u", "om", "ovi", "evi", "e", "i", "o", "oi", "omu", "oho", "ovo", "im", "ih",
                "em", "ei", "ia", "iu", "ou", "ym")
PATRONYMIC = re.compile(r"(ович|евич|йович|ійович|івна|ївна|овна|евна|ич|ovich|ovych|evich|ivna|ovna)$", re.I)
WORD = re.compile(r"[A-Za-zА-Яа-яЁёЄєІіЇїҐґ'’ʼ]+")


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
    """A spelling-independent key: the same for Петренко, Petrenko, PETRENKO, Пєтренко."""
    text = transliterate(word.strip()).lower()
    text = re.sub(r"[^a-z]", "", text)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = re.sub(r"[iyj]+", "i", text)
    text = re.sub(r"^i(?=[aeou])", "", text)
    text = re.sub(r"(?<=[aeou])i(?=[aeou])", "", text)
    return re.sub(r"(.)\1+", r"\1", text)


def stem(key: str) -> str:
    """Drop a final vowel so case endings can follow (petrenko → petrenk)."""
    return key[:-1] if len(key) > 3 and key[-1] in "aeiou" else key


def first_name_keys(name: str) -> set[str]:
    """Keys of a first name and its Ukrainian/Russian/Latin equivalents."""
    key = name_key(name)
    keys = {key}
    for group in FIRST_NAME_GROUPS:
        group_keys = {name_key(n) for n in group}
        if key in group_keys:
            keys |= group_keys
    return keys


@lru_cache(maxsize=1)
def _known_first_names() -> frozenset[str]:
    return frozenset(name_key(n) for group in FIRST_NAME_GROUPS for n in group)


@dataclass(frozen=True)
class NameParts:
    """A person's name split into first names and surnames (each a set of keys)."""

    first: frozenset[str] = field(default_factory=frozenset)
    surname: frozenset[str] = field(default_factory=frozenset)
    surname_text: str = ""


def split_name(full_name: str) -> NameParts:
    """Which words are the first name, which the surname (patronymics are ignored).

    A word found among known first names is the first name; otherwise the usual orders are
    "First Surname" and, with a patronymic, "Surname First Patronymic".
    """
    words = [w for w in WORD.findall(full_name) if not PATRONYMIC.search(w)]
    has_patronymic = len(words) < len(WORD.findall(full_name))
    known = _known_first_names()
    first = [w for w in words if name_key(w) in known]
    rest = [w for w in words if w not in first]
    if not first and len(words) >= 2:
        first, rest = ([words[1]], [words[0]]) if has_patronymic else ([words[0]], words[1:])
    if not rest and len(first) >= 2:
        rest = first[-1:] if not has_patronymic else first[:1]
        first = [w for w in first if w not in rest]
    first_keys: set[str] = set()
    for word in first:
        first_keys |= first_name_keys(word)
    return NameParts(frozenset(first_keys), frozenset(name_key(w) for w in rest), " ".join(rest))


def merge_parts(parts: list[NameParts]) -> NameParts:
    """Join the parts of several name variants of one person."""
    first: set[str] = set()
    surname: set[str] = set()
    for part in parts:
        first |= part.first
        surname |= part.surname
    text = next((p.surname_text for p in parts if p.surname_text), "")
    return NameParts(frozenset(first), frozenset(surname), text)


def word_similarity(token_key: str, name_keys: frozenset[str], min_similarity: float) -> float:
    """How well one text word matches a name, allowing case endings and typos (0-1)."""
    from rapidfuzz.fuzz import ratio

    best = 0.0
    for key in name_keys:
        base = stem(key)
        for ending in CASE_ENDINGS:
            if token_key == base + ending or token_key == key + ending:
                return 1.0
        if len(base) < 5:
            continue
        for ending in CASE_ENDINGS:
            if ending and not token_key.endswith(ending):
                continue
            body = token_key[: len(token_key) - len(ending)] if ending else token_key
            best = max(best, ratio(body, base) / 100.0)
    return best if best >= min_similarity else 0.0
