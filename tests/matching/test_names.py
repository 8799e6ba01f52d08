"""Name matching across Ukrainian, Russian and Latin spellings, case forms and typos."""

from __future__ import annotations

import pytest

from svidok.foundation.settings import MatchSettings
from svidok.foundation.text import name_key, transliterate
from svidok.matching.name_matcher import Text, find_mentions, person_names, supporting_reasons, tokenize
from svidok.matching.names import split_name
from svidok.matching.persons import Person

PETRENKO = Person(name="Олександр Петренко", name_variants=["Александр Петренко"], born="1990-03-14",
                  unit="72 ОМБр", disappeared_at="Мар'їнка", id=1)


def mentions(text: str, person: Person = PETRENKO) -> list[dict]:
    return find_mentions(person_names(person), tokenize(text), MatchSettings().name_threshold)


def best(text: str, person: Person = PETRENKO) -> float:
    return max((m["score"] for m in mentions(text, person)), default=0.0)


@pytest.mark.parametrize(("cyrillic", "system", "latin"), [
    ("Олександр Петренко", "uk", "Oleksandr Petrenko"),
    ("Александр Петренко", "ru", "Aleksandr Petrenko"),
    ("Григорій Щербак", "uk", "Hryhorii Shcherbak"),
    ("Юрій Яковенко", "uk", "Yurii Yakovenko"),
    ("Юрий Ёлкин", "ru", "Yuriy Yolkin"),
    ("Зінаїда Гнатюк", "uk", "Zinaida Hnatiuk"),
])
def test_transliteration_systems(cyrillic: str, system: str, latin: str) -> None:
    assert transliterate(cyrillic, system) == latin


@pytest.mark.parametrize("spellings", [
    ("Петренко", "Petrenko", "PETRENKO"),
    ("Олександр", "Oleksandr"),
    ("Александр", "Aleksandr"),
    ("Григоренко", "Hryhorenko", "Grigorenko"),
    ("Щербак", "Shcherbak", "Scherbak"),
    ("Юрій", "Юрий", "Yurii", "Yuriy", "Iurii"),
    ("Марія", "Мария", "Maria", "Mariia"),
])
def test_one_key_for_every_spelling(spellings: tuple[str, ...]) -> None:
    assert len({name_key(s) for s in spellings}) == 1


def test_split_name_finds_first_name_and_surname_in_either_order() -> None:
    for full in ("Олександр Петренко", "Петренко Олександр Іванович", "Petrenko Oleksandr"):
        parts = split_name(full)
        assert name_key("Петренко") in parts.surname
        assert {name_key("Олександр"), name_key("Александр"), name_key("Aleksandr")} <= parts.first


@pytest.mark.parametrize("text", [
    "Меня зовут Петренко Александр Иванович",        # Russian order with patronymic
    "я, Олександр Петренко, солдат",                   # Ukrainian
    "Oleksandr Petrenko, 72nd brigade",                # Latin
    "Aleksandr Petrenko",
    "передайте Александру Петренку привет",           # dative
    "с Петренком Александром",                         # instrumental
    "у Олександра Петренка",                           # genitive (Ukrainian)
    "Петрeнко Олександр",                              # Latin 'e' typed into Cyrillic
    "Петринко Александр",                              # ASR slip in the surname
])
def test_full_name_found_across_scripts_cases_and_typos(text: str) -> None:
    assert best(text) >= 0.9


def test_surname_alone_scores_below_a_full_name() -> None:
    alone = best("это Петренко сказал")
    assert 0.3 < alone < MatchSettings().name_min_score < best("Петренко Александр")


@pytest.mark.parametrize("text", [
    "Петров Александр из Донецка",                     # another surname, same first name
    "Петриченко Олександр",                            # longer surname, not a typo
    "Александр Сергеевич Пушкин",                      # first name alone
    "Олександрович Петро приїхав",                     # patronymic is not a first name
    "ремонт техники продолжается",
])
def test_no_full_name_match_for_other_people(text: str) -> None:
    assert best(text) < MatchSettings().name_min_score


def test_common_word_surname_needs_support() -> None:
    koval = Person(name="Іван Коваль", id=2, unit="в/ч А1234")
    assert best("старый коваль ковал подкову", koval) < MatchSettings().name_min_score
    text = "коваль из части А1234"
    support = supporting_reasons(person_names(koval), Text("m", "post", tokenize(text), text, "item"))
    assert [r["kind"] for r in support] == ["unit"]


def test_supporting_reasons_unit_birth_year_place() -> None:
    text = "Петренко, 72 бригада, 1990 года рождения, из Марьинки"
    reasons = supporting_reasons(person_names(PETRENKO), Text("m", "transcript", tokenize(text), text, "w"))
    assert {r["kind"] for r in reasons} == {"unit", "birth-year", "place"}
