"""Detention sites named in post text and transcripts, as supporting reasons of sightings."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.matching.places import GazetteerError, find_sites, load_gazetteer

GAZETTEER = Path(__file__).resolve().parents[2] / "configs" / "detention_sites.toml"


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(GAZETTEER)


def sites(gazetteer, text: str) -> list[str]:
    return [m.site.key for m in find_sites(gazetteer, text, "post")]


@pytest.mark.parametrize(("text", "site"), [
    ("Его держали в Оленовке, потом перевели", "olenivka-colony-120"),       # Russian locative
    ("Мій син був в Оленівці", "olenivka-colony-120"),                       # Ukrainian locative, к → ц
    ("Ukrainian POWs held at Olenivka", "olenivka-colony-120"),              # Latin
    ("был в СИЗО-2 Таганрога", "taganrog-sizo-2"),
    ("утримували у СІЗО в Таганрозі", "taganrog-sizo-2"),                   # г → з
    ("этапировали в колонию в Донском", "donskoy-ik-1"),
    ("в Курском СИЗО-1, то есть в СИЗО Курска", "kursk-sizo-1"),
    ("сидел в СИЗО Старого Оскола", "stary-oskol-sizo-2"),
    ("в Локне в колонии", "mala-loknia-ik-11"),
])
def test_case_forms_of_a_site_are_found(gazetteer, text: str, site: str) -> None:
    assert sites(gazetteer, text) == [site]


@pytest.mark.parametrize("text", [
    "вчера в Курске прошёл концерт",            # a city name alone is no detention site
    "Таганрог, набережная, лето",
    "Донской казачий хор",
    "Петренко Олександр, 72 бригада",
])
def test_a_place_without_a_facility_word_proposes_nothing(gazetteer, text: str) -> None:
    assert sites(gazetteer, text) == []


def test_every_entry_names_its_source_and_spellings(gazetteer) -> None:
    assert len(gazetteer.sites) >= 5
    for site in gazetteer.sites:
        assert site.source and site.region and site.names and site.toponyms
        assert site.coordinates is None or (-90 <= site.coordinates[0] <= 90 and -180 <= site.coordinates[1] <= 180)


def test_a_mention_keeps_the_words_around_it(gazetteer) -> None:
    (mention,) = find_sites(gazetteer, "Позже его перевели в СИЗО-2 Таганрога, где он и сейчас.", "transcript", 12.5)
    assert mention.text == "перевели в СИЗО-2 Таганрога, где он и" and mention.facility_word
    assert mention.as_reason() == {"kind": "detention-site", "site": "taganrog-sizo-2", "name": mention.site.name,
                                   "text": mention.text, "field": "transcript", "time": 12.5, "facility_word": True}


def test_a_site_without_a_source_is_refused(tmp_path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text('[[site]]\nkey = "x"\nkind = "sizo"\nname = "X"\nnames = ["X"]\ntoponyms = ["Иксово"]\n'
                    'region = "R"\n', encoding="utf-8")
    with pytest.raises(GazetteerError, match="lacks source"):
        load_gazetteer(path)


def test_match_adds_the_sites_a_post_names_to_its_sighting(run_json, person_with_consent, tmp_path) -> None:
    from tests.factories import jpeg_bytes

    person, _ = person_with_consent
    photo = tmp_path / "post.jpg"
    photo.write_bytes(jpeg_bytes(5))
    run_json("ingest", "files", str(photo), "--note", "Петренко Александр, сейчас в СИЗО-2 Таганрога")
    assert run_json("match")["new_sightings"] == 1
    (sighting,) = run_json("sightings", "list")
    assert sighting["person_id"] == person and sighting["score"] == 0.95      # the score is untouched
    assert [(r["kind"], r.get("site")) for r in sighting["reasons"]] == [("name", None),
                                                                          ("detention-site", "taganrog-sizo-2")]
    assert run_json("match")["new_sightings"] == 0 and run_json("match")["updated"] == 0
