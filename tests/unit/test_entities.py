"""Names found by their form, whatever the model makes of them: datelines, head words, defined acronyms."""

from __future__ import annotations

import re

import pytest

from pipeline.enrich.entities import Span, extract_entities
from pipeline.enrich.gazetteer import Gazetteer, gazetteer
from pipeline.models import EntityType


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return gazetteer(("en",))


def _found(text: str, places: Gazetteer, spans: list[Span] | None = None) -> set[tuple[EntityType, str]]:
    entities = extract_entities(text, spans or [], places, "en")
    return {(e.type, m.text) for e in entities for m in e.mentions}


@pytest.mark.parametrize(
    ("opening", "place"),
    [
        ("BRNO (Agency) - Talks resumed on Monday.", "BRNO"),
        ("PORTO ALEGRE — Talks resumed on Monday.", "PORTO ALEGRE"),
        ("LVIV, Ukraine — Talks resumed on Monday.", "LVIV"),
        ("DUBLIN, March 3 (Agency) - Talks resumed on Monday.", "DUBLIN"),
    ],
)
def test_datelines_are_places_never_organisations(opening: str, place: str, places: Gazetteer) -> None:
    spans = [Span("ORG", 0, len(place))]  # what the small model often makes of a word in capitals
    found = _found(opening, places, spans)
    assert (EntityType.PLACE, place) in found
    assert (EntityType.ORGANISATION, place) not in found


def test_capitals_inside_a_paragraph_or_before_a_colon_are_no_dateline(places: Gazetteer) -> None:
    found = _found("Results came in.\nWARNING: the NATO summit — delayed.", places)
    assert not {f for f in found if f[0] is EntityType.PLACE}


def test_organisations_by_their_head_word(places: Gazetteer) -> None:
    text = (
        "Shares of Korvex Mining Ltd fell. Brelan Airways and Tosca Holdings reported results, the Ministry of "
        "Water Resources said. Jane Doe, the Harlow Council spokeswoman, declined to comment. The Union of "
        "Pastry Bakers and Confectioners met at the Olvera Arena near Lake Tamsin."
    )
    found = _found(text, places, [Span("PERSON", text.index("Jane"), text.index("Jane") + 8)])
    organisations = {name for kind, name in found if kind is EntityType.ORGANISATION}
    assert organisations == {
        "Korvex Mining Ltd",
        "Brelan Airways",
        "Tosca Holdings",
        "Ministry of Water Resources",
        "Harlow Council",
        "Union of Pastry Bakers and Confectioners",
    }
    assert {(EntityType.PLACE, "Olvera Arena"), (EntityType.PLACE, "Lake Tamsin")} <= found


def test_head_words_over_the_models_wrong_label_but_not_over_a_person(places: Gazetteer) -> None:
    text = "Instituto Ravel said so. A Senate panel met. Students of Brandt College Amy Lowe and Ben Ruiz spoke."
    spans = [Span("PERSON", 0, 15), Span("PERSON", text.index("Amy"), text.index("Amy") + 8)]
    found = _found(text, places, spans)
    assert (EntityType.ORGANISATION, "Instituto Ravel") in found
    assert (EntityType.ORGANISATION, "Brandt College") in found
    assert (EntityType.PERSON, "Amy Lowe") in found
    assert not any(name.startswith("A ") for _, name in found)


def test_acronyms_defined_in_brackets_are_the_organisation(places: Gazetteer) -> None:
    text = "The Movimento 9 Luci (M9L) won. Later the M9L said it would govern with the Green Reform League."
    entities = extract_entities(text, [], places, "en")
    party = next(e for e in entities if e.name == "Movimento 9 Luci")
    assert party.type is EntityType.ORGANISATION
    assert [m.text for m in party.mentions] == ["Movimento 9 Luci", "M9L", "M9L"]


def test_person_spans_keep_hyphenated_given_names_and_drop_caption_labels(places: Gazetteer) -> None:
    text = "Lau Siu-ming won the seat. Lau thanked voters.\n\nDora Vance Photo: Ed Lin.\n\nA rally. Photo: Ed Lin."
    spans = [Span("PERSON", 0, 7), Span("PERSON", text.index("Dora"), text.index("Photo"))]
    found = _found(text, places, spans)
    assert (EntityType.PERSON, "Lau Siu-ming") in found
    assert (EntityType.PERSON, "Dora Vance") in found
    assert not any("Photo" in name for _, name in found)


def _span(text: str, label: str, name: str) -> Span:
    return Span(label, text.index(name), text.index(name) + len(name))


def test_a_name_in_cyrillic_or_katakana_is_the_entity_of_its_latin_spelling(places: Gazetteer) -> None:
    text = "Olena Marchuk (Олена Марчук) met Dmitri Sokolov. Marchuk (オレナ・マルチュク in Japan) said so."
    names = ["Olena Marchuk", "Олена Марчук", "Dmitri Sokolov", "オレナ・マルチュク"]
    entities = extract_entities(text, [_span(text, "PERSON", n) for n in names], places, "en")
    people = {e.name: [m.text for m in e.mentions] for e in entities if e.type is EntityType.PERSON}
    assert people == {
        "Olena Marchuk": ["Olena Marchuk", "Олена Марчук", "Marchuk", "オレナ・マルチュク"],
        "Dmitri Sokolov": ["Dmitri Sokolov"],
    }


def test_people_and_organisations_without_a_model(places: Gazetteer) -> None:
    german = "Verbandschefin Petra Lindqvist sagte am Montag, die Bahn und die Nordwerk AG müssten reden."
    found = {(e.type, e.name) for e in extract_entities(german, [], places, "de", model=False)}
    assert found == {(EntityType.PERSON, "Petra Lindqvist"), (EntityType.ORGANISATION, "Nordwerk AG")}
    japanese = "オレナ・マルチュク氏は会見で述べた。"
    found = {(e.type, e.name) for e in extract_entities(japanese, [], places, "ja", model=False)}
    assert found == {(EntityType.PERSON, "オレナ・マルチュク")}


def test_organisation_spans_end_at_the_name(places: Gazetteer) -> None:
    text = "Ann Roe, the State Department Spokesperson, said so, according to Dalnews news agency."
    spans = [_span(text, "PERSON", "Ann Roe"), _span(text, "ORG", "State Department Spokesperson")]
    spans.append(_span(text, "ORG", "Dalnews news agency"))
    organisations = {name for kind, name in _found(text, places, spans) if kind is EntityType.ORGANISATION}
    assert organisations == {"State Department", "Dalnews"}


def test_countries_that_play_each_other_are_teams(places: Gazetteer) -> None:
    text = "Group B - Norway 2-1 Portugal\n\nNorway defeated Portugal in Oslo. Portugal had more of the ball."
    spans = [Span("GPE", m.start(), m.end()) for m in re.finditer(r"Norway|Portugal|Oslo", text)]
    found = {(e.type, e.name) for e in extract_entities(text, spans, places, "en")}
    assert {(EntityType.ORGANISATION, "Norway"), (EntityType.ORGANISATION, "Portugal")} <= found
    assert (EntityType.PLACE, "Oslo") in found  # where they played stays a place


def test_a_side_that_is_no_country_plays_a_country(places: Gazetteer) -> None:
    text = "Group D - Ghana 0-2 Scotland\n\nGhana met Scotland in Leeds. Scotland scored twice after the break."
    spans = [Span("GPE", m.start(), m.end()) for m in re.finditer(r"Ghana|Scotland|Leeds", text)]
    found = {(e.type, e.name) for e in extract_entities(text, spans, places, "en")}
    assert {(EntityType.ORGANISATION, "Ghana"), (EntityType.ORGANISATION, "Scotland")} <= found
    assert (EntityType.PLACE, "Leeds") in found


def test_countries_that_do_not_play_stay_places(places: Gazetteer) -> None:
    text = "Norway and Portugal signed a fisheries accord in Oslo on Monday."
    spans = [Span("GPE", m.start(), m.end()) for m in re.finditer(r"Norway|Portugal|Oslo", text)]
    found = {(e.type, e.name) for e in extract_entities(text, spans, places, "en")}
    assert {(EntityType.PLACE, "Norway"), (EntityType.PLACE, "Portugal")} <= found


def test_a_museum_is_a_place(places: Gazetteer) -> None:
    text = "The shuttle will go to the Museum of Flight in Seattle."
    start = text.index("Museum")
    spans = [Span("ORG", start, start + len("Museum of Flight"))]
    found = {(e.type, e.name) for e in extract_entities(text, spans, places, "en")}
    assert (EntityType.PLACE, "Museum of Flight") in found


def test_a_leading_article_is_no_part_of_a_place(places: Gazetteer) -> None:
    (hit,) = places.find("The Hong Kong election was held on Sunday.")
    assert hit.start == len("The ")


def test_a_place_the_model_reads_inside_a_longer_name_or_an_adjective_is_none(places: Gazetteer) -> None:
    text = "Sporting Lisbon beat a pro-Madrid side. Fans in Lisbon cheered."
    second = text.index("Lisbon", text.index("Fans"))
    spans = [_span(text, "GPE", "Lisbon"), _span(text, "ORG", "pro-Madrid"), Span("GPE", second, second + 6)]
    found = [(e.type, m.start) for e in extract_entities(text, spans, places, "en") for m in e.mentions]
    assert found == [(EntityType.PLACE, second)]


def test_a_soft_c_meets_the_s_other_scripts_write_and_a_hard_one_stays() -> None:
    from pipeline.enrich.entities import name_key

    assert name_key("Lucia Vance") == name_key("ルシア・ヴァンス") == name_key("Люсия Ванс")
    assert name_key("Grace Aerospace") == name_key("グレース・エアロスペース")
    assert name_key("Kovac") == name_key("Ковач")  # no vowel after it: the c of a Slavic name is ч


def test_a_name_the_model_takes_for_a_place_is_an_organisation_when_the_text_says_it_is_one(
    places: Gazetteer,
) -> None:
    text = (
        "He joined the Ocean Wardens at 16. Members of the Ocean Wardens live apart. He left the Ocean Wardens "
        "group in 2010. Volta Hall denies it, and critics of Volta Hall say it is no school. Volta Hall said so."
    )
    spans = [Span("LOC", m.start(), m.end()) for m in re.finditer(r"Ocean Wardens", text)]
    spans += [Span("GPE", m.start(), m.end()) for m in list(re.finditer(r"Volta Hall", text))[:2]]
    spans.append(Span("ORG", text.rindex("Volta Hall"), text.rindex("Volta Hall") + len("Volta Hall")))
    found = {(e.type, e.name, e.count) for e in extract_entities(text, spans, places, "en")}
    assert found >= {(EntityType.ORGANISATION, "Ocean Wardens", 3), (EntityType.ORGANISATION, "Volta Hall", 3)}
    assert not any(kind is EntityType.PLACE for kind, _, _ in found)


def test_a_place_the_gazetteer_knows_keeps_its_readings(places: Gazetteer) -> None:
    text = "Lisbon beat Porto. Fans filled the streets of Lisbon."
    first, second = text.index("Lisbon"), text.rindex("Lisbon")
    spans = [Span("ORG", first, first + 6), Span("GPE", second, second + 6)]
    found = {(e.type, m.start) for e in extract_entities(text, spans, places, "en") for m in e.mentions}
    assert (EntityType.PLACE, second) in found
