"""Event stories: independent reports of one event join, look-alike events stay apart, copies stay copies."""

from __future__ import annotations

import itertools

import pytest

from pipeline.enrich.dedup import CopyIndex
from pipeline.enrich.events import EventIndex, Member, event_features, place_articles
from pipeline.models import Article, Entity, EntityType
from tests.support.stories import report

# One event (a ferry fire), three independent reports, a follow-up, a report in French and a copy; two
# look-alikes: the same operator's results, and another fire with the same coastguard the next day.
WIRE = report(
    "wire",
    "wire",
    "Fire on Baltic ferry forces evacuation of 312 passengers",
    "A fire broke out in the engine room of the ferry Nordstjerna off the island of Gotland on Tuesday, forcing "
    "the evacuation of all 312 passengers and 48 crew, the Swedish coastguard said.\n\n"
    "The vessel, operated by Lindqvist Lines, was sailing from Nynashamn to Visby. Two crew members were treated "
    "for smoke inhalation.",
    "2025-03-04T09:10:00+00:00",
)
PAPER = report(
    "paper",
    "paper",
    "Passengers describe smoke and lifeboats as Nordstjerna burns",
    "Holidaymakers clutching children climbed into lifeboats on Tuesday morning as black smoke poured from the "
    "Nordstjerna, a Lindqvist Lines ferry bound for Visby.\n\n"
    "The Swedish coastguard said all 312 passengers had been taken off safely. Helicopters from Gotland helped "
    "with the rescue, and two crew were treated for smoke inhalation.\n\n"
    "Lindqvist Lines, which runs six vessels in the Baltic, said it would cooperate with investigators.",
    "2025-03-04T12:40:00+00:00",
)
RADIO = report(
    "radio",
    "radio",
    "Engine room blaze on Gotland ferry, everyone rescued",
    "Everyone on board the burning Nordstjerna is safe, coastguard spokesperson Eva Holm said. The engine room "
    "fire started shortly after 7 am near Gotland; 312 passengers and 48 crew were evacuated.",
    "2025-03-04T10:05:00+00:00",
)
FOLLOW_UP = report(
    "follow-up",
    "paper",
    "Investigators board fire-damaged Nordstjerna in Visby",
    "Accident investigators boarded the Nordstjerna in Visby harbour on Wednesday, a day after an engine room "
    "fire forced the evacuation of 312 passengers off Gotland. Lindqvist Lines said the ferry would stay out of "
    "service for at least a month.",
    "2025-03-05T08:00:00+00:00",
)
FRENCH = report(
    "french",
    "agence",
    "Suède : incendie à bord du ferry Nordstjerna, 312 passagers évacués",
    "Un incendie s'est déclaré mardi dans la salle des machines du ferry Nordstjerna au large de Gotland. Les 312 "
    "passagers et 48 membres d'équipage ont été évacués, selon les garde-côtes suédois.\n\n"
    "Le navire de la compagnie Lindqvist Lines reliait Nynashamn à Visby.",
    "2025-03-04T15:00:00+00:00",
    language="fr",
)
COPY = report(
    "copy",
    "regional",
    "Ferry fire off Gotland: 312 passengers evacuated",
    WIRE.text,
    "2025-03-04T09:40:00+00:00",
)
RESULTS = report(
    "results",
    "business",
    "Lindqvist Lines profit falls as fuel costs bite",
    "Lindqvist Lines reported a 14 per cent fall in annual profit on Thursday, blaming higher fuel prices and "
    "weaker freight demand on its Baltic routes.\n\n"
    "The company, which runs ferries between Nynashamn and Visby, said it would delay ordering two new vessels.",
    "2025-03-06T07:30:00+00:00",
)
OTHER_FIRE = report(
    "other-fire",
    "wire",
    "Cargo ship fire in Gulf of Bothnia, crew airlifted",
    "The Swedish coastguard airlifted 11 crew from the cargo ship Marta Bay after a fire in its hold in the Gulf "
    "of Bothnia on Wednesday. The ship, carrying timber to Lulea, was towed to port.",
    "2025-03-05T16:00:00+00:00",
)
# The same operator, ship and island two days later: another event that recalls the fire as its background.
AGROUND = report(
    "aground",
    "wire",
    "Lindqvist Lines ferry runs aground off Visby, two days after Nordstjerna fire",
    "The Lindqvist Lines ferry Sydstjerna, which took on the Nordstjerna's Visby sailings after Tuesday's engine "
    "room fire off Gotland, ran aground outside Visby harbour on Thursday with 312 passengers and 48 crew on "
    "board, the Swedish coastguard said.\n\n"
    "No one was hurt. Lindqvist Lines, which runs six vessels in the Baltic, said divers would inspect the hull.",
    "2025-03-06T11:00:00+00:00",
)
EVENT = [WIRE, PAPER, RADIO, FOLLOW_UP, FRENCH, COPY]
LOOK_ALIKES = [RESULTS, OTHER_FIRE]


def _place(articles: list[Article], one_by_one: bool = False) -> dict[str, tuple[str, str | None]]:
    copies, events = CopyIndex(), EventIndex()
    placed = {}
    for batch in [[a] for a in articles] if one_by_one else [articles]:
        placed |= place_articles(copies, events, batch)
    return {a.id: (placed[a.id].story_id, placed[a.id].duplicate_of) for a in articles}


def test_independent_reports_follow_ups_and_translations_join_one_story() -> None:
    placed = _place(EVENT + LOOK_ALIKES)
    stories = {placed[a.id][0] for a in EVENT}
    assert stories == {WIRE.id}, "the earliest report starts the story; the others join it"
    assert placed[COPY.id] == (WIRE.id, WIRE.id), "a copy joins its original's story and says whom it copies"
    assert all(placed[a.id][1] is None for a in EVENT if a is not COPY)


def test_look_alike_events_stay_apart() -> None:
    placed = _place(EVENT + LOOK_ALIKES)
    assert placed[RESULTS.id][0] == RESULTS.id, "the operator's results are another event"
    assert placed[OTHER_FIRE.id][0] == OTHER_FIRE.id, "another fire with the same coastguard is another event"


@pytest.mark.parametrize("seed", range(6))
def test_arrival_order_within_a_day_does_not_change_the_stories(seed: int) -> None:
    """Runs place what they fetched, one article at a time here, in any order within a day; days come in turn."""
    import random

    expected = _place(EVENT + LOOK_ALIKES)
    order = EVENT + LOOK_ALIKES
    random.Random(seed).shuffle(order)
    order.sort(key=lambda a: a.published_date)
    shuffled = _place(order, one_by_one=True)

    # Story ids are whoever came first; what must agree is who is with whom.
    def groups(placed: dict[str, tuple[str, str | None]]) -> set[frozenset[str]]:
        by_story: dict[str, set[str]] = {}
        for article_id, (story, _) in placed.items():
            by_story.setdefault(story, set()).add(article_id)
        return {frozenset(g) for g in by_story.values()}

    assert groups(shuffled) == groups(expected)


def test_a_loaded_window_places_like_one_built_in_this_run() -> None:
    copies, built = CopyIndex(), EventIndex()
    place_articles(copies, built, [WIRE, PAPER, RADIO])
    loaded = EventIndex(
        Member(m.article_id, m.story_id, m.published_at, m.language, m.features, m.day) for m in built.members()
    )
    later = [FOLLOW_UP, FRENCH, *LOOK_ALIKES]
    assert place_articles(CopyIndex(copies.members()), loaded, later) == place_articles(copies, built, later)


def test_a_report_of_another_day_is_another_event_while_the_next_day_continues_the_story() -> None:
    placed = _place([WIRE, PAPER, RADIO, FRENCH, AGROUND, FOLLOW_UP], one_by_one=True)  # the follow-up arrives late
    assert placed[AGROUND.id][0] == AGROUND.id, "two days on, the same ship's operator at another event"
    assert placed[FOLLOW_UP.id][0] == WIRE.id, "the next day's development continues the story"


def test_features_carry_names_and_numbers_across_scripts_and_locales() -> None:
    latin = report("a", "a", "Blast in Kyiv", "Officials in Kyiv said 1,200 homes lost power.", "2025-03-04T09:00:00Z")
    cyrillic = report("b", "b", "Вибух у Києві", "У Київ 1 200 будинків без світла.", "2025-03-04T09:00:00Z", "uk")  # noqa: RUF001 (Cyrillic on purpose)
    shared = set(event_features(latin).keys.tolist()) & set(event_features(cyrillic).keys.tolist())
    assert len(shared) >= 2, "the city's name and the number, whatever the script and digit grouping"


def _named(article: Article, *names: tuple[str, EntityType]) -> Article:
    entities = [Entity(name=n, type=t, count=1, mentions=[]) for n, t in names]
    return article.model_copy(update={"entities": entities})


def test_a_report_in_a_script_without_capitals_joins_through_its_named_entities() -> None:
    """Katakana marks no names and this report shares no number: its people and companies carry it."""
    text = (
        "Kestrel Aerospace's Harrier rocket failed after launch from the Mahia Peninsula on Friday, and two student "
        "satellites were lost. Chief executive Aroha Mitchell said an investigation had started."
    )
    english = [
        _named(
            report(f"en-{n}", f"outlet-{n}", title, text, f"2025-03-07T0{n}:00:00Z"),
            ("Kestrel Aerospace", EntityType.ORGANISATION),
            ("Aroha Mitchell", EntityType.PERSON),
        )
        for n, title in enumerate(["Harrier rocket fails after launch", "Student satellites lost in rocket failure"])
    ]
    japanese = _named(
        report(
            "ja",
            "kanto",
            "ロケット打ち上げ失敗",
            "ケストレル・エアロスペースの小型ロケットが打ち上げに失敗した。アロハ・ミッチェル最高経営責任者は原因を調べると述べた。",
            "2025-03-07T05:00:00Z",
            "ja",
        ),
        ("ケストレル・エアロスペース", EntityType.ORGANISATION),
        ("アロハ・ミッチェル", EntityType.PERSON),
    )
    unrelated = _named(
        report("other", "other", "ロケット", "新しいロケットの試験が行われた。", "2025-03-07T06:00:00Z", "ja"),
        ("宙野イメージング", EntityType.ORGANISATION),
    )
    placed = _place([*english, japanese, unrelated])
    assert placed[japanese.id][0] == placed[english[0].id][0] == placed[english[1].id][0]
    assert placed[unrelated.id][0] == unrelated.id


def test_every_article_is_placed_once_however_often_it_arrives() -> None:
    copies, events = CopyIndex(), EventIndex()
    first = place_articles(copies, events, EVENT)
    assert place_articles(copies, events, list(reversed(EVENT))) == first
    assert len(events.members()) == len(EVENT)


def test_order_of_the_batch_is_irrelevant() -> None:
    for order in itertools.islice(itertools.permutations([WIRE, PAPER, RADIO, RESULTS]), 0, 24, 5):
        assert _place(list(order)) == _place([WIRE, PAPER, RADIO, RESULTS])


def test_a_report_that_fits_two_stories_continues_the_one_begun_first() -> None:
    # A window where one event was split: the wire's report alone, and a later story of two other reports.
    def member(article: Article, story: Article) -> Member:
        return Member(article.id, story.id, article.published_at.timestamp(), article.language, event_features(article))

    events = EventIndex([member(WIRE, WIRE), member(RADIO, RADIO), member(PAPER, RADIO)])
    placed = place_articles(CopyIndex(), events, [FOLLOW_UP])
    assert placed[FOLLOW_UP.id].story_id == WIRE.id


def test_a_window_may_begin_with_an_article_that_has_no_features() -> None:
    bare = report("bare", "wire", "Ok", "", "2024-01-07T08:00:00+00:00")
    assert len(event_features(bare).keys) == 0
    copies, events = CopyIndex(), EventIndex()
    placed = place_articles(copies, events, [bare, WIRE])
    assert placed[bare.id].story_id == bare.id and len(events.members()) == 2
