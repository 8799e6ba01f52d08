"""The one Russian/Ukrainian normalisation: search stems, name keys, and highlighting a heard name."""

from svidok.foundation.text import find_name, is_name_form, name_key, stem


def test_search_stems_join_word_forms():
    assert stem("плену") == stem("плен") == "плен"
    assert stem("Петренкові") == stem("Петренка") == stem("Петренко")


def test_name_keys_cross_scripts_and_case_forms():
    assert name_key("Петренко") == name_key("Petrenko") == name_key("PETRENKO")
    assert is_name_form(name_key("Петренка"), name_key("Петренко"))
    assert is_name_form(name_key("Петренкові"), name_key("Petrenko"))
    assert not is_name_form(name_key("Петров"), name_key("Петренко"))


def test_find_name_marks_case_forms_in_either_script_and_nothing_else():
    text = "Меня зовут Петренка Олександра, а не Петрова."
    spans = find_name(text, ["Петренко Олександр"])
    assert [text[a:b] for a, b in spans] == ["Петренка", "Олександра"]
    latin = "Petrenko is here"
    assert [latin[a:b] for a, b in find_name(latin, ["Петренко"])] == ["Petrenko"]
