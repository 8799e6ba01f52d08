"""Names across scripts: Cyrillic→Latin transliteration, a phonetic key, and name parts.

The same person is written Олександр Петренко (Ukrainian), Александр Петренко (Russian),
Oleksandr Petrenko (Ukrainian national transliteration, 2010) and Aleksandr Petrenko (Russian
passport/BGN style). Matching goes through `name_key()`: transliterate to Latin, then fold
the spellings the systems disagree on (г=h/g, х=kh/h/x, и/і/й/ы=i/y/j, я=ya/ia, щ=shch/sch,
doubled letters) into one key. Ukrainian and Russian first names that are the same name
(Олександр/Александр, Сергій/Сергей) are joined through `FIRST_NAME_GROUPS`. Case forms
(Петренка, Петренку, Олександром) are a stem plus one of `CASE_ENDINGS`. Transliteration and
the folding key live in `svidok.foundation.text`, shared with search and highlighting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from svidok.foundation.text import CASE_ENDINGS, NAME_WORD, is_name_form, name_key, name_stem

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

PATRONYMIC = re.compile(r"(ович|евич|йович|ійович|івна|ївна|овна|евна|ич|ovich|ovych|evich|ivna|ovna)$", re.I)


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
    words = [w for w in NAME_WORD.findall(full_name) if not PATRONYMIC.search(w)]
    has_patronymic = len(words) < len(NAME_WORD.findall(full_name))
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
        if is_name_form(token_key, key):
            return 1.0
        base = name_stem(key)
        if len(base) < 5:
            continue
        for ending in CASE_ENDINGS:
            if ending and not token_key.endswith(ending):
                continue
            body = token_key[: len(token_key) - len(ending)] if ending else token_key
            best = max(best, ratio(body, base) / 100.0)
    return best if best >= min_similarity else 0.0
