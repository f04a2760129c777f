"""Event days: the days a report names, in the languages the pipeline reads, resolved against its publication."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pipeline.enrich.eventdays import event_day, mentioned_days

# Thursday 11 January 2024, 10:00 in the publisher's zone (UTC+1).
PUBLISHED = datetime.fromisoformat("2024-01-11T10:00:00+01:00")
TUESDAY, WEDNESDAY, FRIDAY = date(2024, 1, 9), date(2024, 1, 10), date(2024, 1, 12)


@pytest.mark.parametrize(
    ("language", "text", "day"),
    [
        ("en", "The talks ended on Tuesday.", TUESDAY),
        ("en", "Police said yesterday that two men were held.", WEDNESDAY),
        ("en", "Protesters gathered last night outside the office.", WEDNESDAY),
        ("de", "Die Einigung kam am Dienstag.", TUESDAY),
        ("fr", "Le ministre a parlé mardi devant les députés.", TUESDAY),
        ("es", "El alcalde habló el martes con los vecinos.", TUESDAY),
        ("uk", "Угоду підписали у вівторок у Варшаві.", TUESDAY),  # noqa: RUF001 (Cyrillic on purpose)
        ("ru", "Соглашение подписали в среду.", WEDNESDAY),
        ("ja", "火曜日に合意した。", TUESDAY),
        ("ja", "10日、首相が発表した。", WEDNESDAY),
        ("en", "The school stays closed until Jan. 9, officials said.", TUESDAY),
        ("de", "Am 9. Januar begann der Streik.", TUESDAY),
        ("es", "La tormenta llegó el 9 de enero.", TUESDAY),
        ("en", "Results are due on 2024-01-10.", WEDNESDAY),
    ],
)
def test_days_named_in_every_language_resolve_against_publication(language: str, text: str, day: date) -> None:
    assert day in mentioned_days(text, language, PUBLISHED)


def test_a_weekday_is_this_week_or_tomorrow_in_a_zone_ahead() -> None:
    assert mentioned_days("It happened on Thursday.", "en", PUBLISHED) == [date(2024, 1, 11)]
    assert mentioned_days("It happened on Friday local time.", "en", PUBLISHED) == [FRIDAY]
    assert mentioned_days("It happened on Saturday.", "en", PUBLISHED) == [date(2024, 1, 6)]


def test_abbreviations_that_are_words_elsewhere_name_no_day() -> None:
    assert mentioned_days("Do not sit on the sun deck, said Mar Di.", "en", PUBLISHED) == []
    assert mentioned_days("So war es.", "de", PUBLISHED) == []


def test_the_event_day_is_the_latest_named_up_to_publication() -> None:
    opening = ["Champion beaten", "She won the final on Sunday and lost in the first round on Tuesday."]
    assert event_day(opening, "en", PUBLISHED) == TUESDAY.toordinal(), "Sunday is the background it recalls"
    plans = ["Strike ends", "The union agreed on Wednesday; flights return to normal on Friday."]
    assert event_day(plans, "en", PUBLISHED) == WEDNESDAY.toordinal(), "a later day is a plan"
    assert event_day(["Launch fails", "The rocket failed on Friday local time."], "en", PUBLISHED) == FRIDAY.toordinal()
    assert event_day(["Quiet day", "Nothing was said about when."], "en", PUBLISHED) == 0
