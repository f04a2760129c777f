"""Leads, derived titles, typography and date precision: what normalisation makes of real pages' text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.models import DatePrecision, Source
from pipeline.normalise import clean_text, derive_title, normalise_item
from pipeline.parse import parse_feed
from pipeline.text import first_sentences, split_sentences
from tests.support.articles import raw_item
from tests.support.rss import rss, rss_item

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
STORY = "The council approved the budget on Tuesday after a debate that lasted most of the night, officials said."


@pytest.mark.parametrize(
    ("lead", "title"),
    [
        (
            "LA CROSSE, Wis. (AP) — A man was charged on Monday with arson. He denied it.",
            "A man was charged on Monday with arson",
        ),
        (
            "Gov. Tony Evers signed the bill on Friday. Critics said it came too late.",
            "Gov. Tony Evers signed the bill on Friday",
        ),
        ("J. R. Hartley found the book at last. It was in a shop.", "J. R. Hartley found the book at last"),
        (
            "Prices in the U.S. rose again in May. Economists were surprised.",
            "Prices in the U.S. rose again in May. Economists were surprised",
        ),
        ("NEW DELHI: The monsoon arrived early this year. Farmers welcomed it.", "The monsoon arrived early this year"),
    ],
)
def test_a_derived_title_never_stops_at_an_abbreviation_or_dateline(lead: str, title: str) -> None:
    assert derive_title(lead) == title


def test_sentences_do_not_break_after_initials_or_short_abbreviations() -> None:
    text = "Dr. Ana Ruiz met Sen. Paul Ode in St. Louis on Monday. They spoke for an hour. Then the talks ended."
    assert split_sentences(text) == [
        "Dr. Ana Ruiz met Sen. Paul Ode in St. Louis on Monday.",
        "They spoke for an hour.",
        "Then the talks ended.",
    ]
    assert first_sentences("It ended. A new one began.", 1) == "It ended."


@pytest.mark.parametrize(
    "furniture",
    [
        "We use cookies to give you the best experience. Accept our cookie policy to continue.",
        "You are using a browser version with limited support for CSS. Please update your browser.",
        "Subscribe now for unlimited access to all our journalism.",
        "This post contains affiliate links: we may earn a commission when you buy through them.",
        "Read next: Ten ideas for the weekend",
        "By Maria Lopez",
        "NEW DELHI:",
        "World",
        "Photo: A crowd outside the town hall (File photo)",
    ],
)
def test_the_lead_is_the_first_real_paragraph(furniture: str) -> None:
    article = normalise_item(raw_item("Budget approved", [furniture, STORY], published_at=NOW))
    assert article.lead == STORY
    assert not article.text.startswith(furniture)


def test_a_repeated_headline_is_not_text_and_a_derived_title_uses_the_lead() -> None:
    repeated = normalise_item(
        raw_item("Budget approved after a long night", ["Budget approved after a long night", STORY], published_at=NOW)
    )
    assert repeated.text == STORY
    derived = normalise_item(raw_item(None, ["Local", STORY], published_at=NOW))
    assert derived.title == STORY.rstrip(".") and derived.origins["title"] == "lead"


def test_notices_within_the_text_go_and_real_short_paragraphs_stay() -> None:
    paragraphs = [STORY, "Sign up for our newsletter to get the news in your inbox.", "It passed.", STORY]
    assert normalise_item(raw_item("T", paragraphs, published_at=NOW)).text.split("\n\n") == [
        STORY,
        "It passed.",
        STORY,
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Le maire l'a dit : « Nous reconstruirons ! » Qui paiera ? Personne ; pas encore.",
        "Der Minister sagte: „Wir bauen die Brücke neu.“ Das kostet viel.",
        "東京都は新しい橋の建設を発表した。",
        "Ça coûte 3 € ; c'est peu !",
    ],
)
def test_typography_survives_cleaning(text: str) -> None:
    assert clean_text(text) == text


def test_a_line_break_inside_japanese_text_adds_no_space() -> None:
    assert clean_text("東京都は新しい橋の\n建設を発表した。") == "東京都は新しい橋の建設を発表した。"


def test_a_date_only_feed_value_is_marked_as_such() -> None:
    source = Source(id="s", kind="feed", url="https://f.example/rss")
    feed = rss(
        "F",
        [
            rss_item("Dated", "https://f.example/a", published="2025-05-20"),
            rss_item("Timed", "https://f.example/b", published="Tue, 20 May 2025 10:30:00 +0200"),
        ],
    )
    items = {i.title: i for i in parse_feed(feed, source, "raw/s/x", NOW).items}
    assert items["Dated"].published_precision is DatePrecision.DAY
    assert items["Timed"].published_precision is DatePrecision.TIME
    assert items["Timed"].published_at == datetime(2025, 5, 20, 8, 30, tzinfo=UTC)
    assert normalise_item(items["Dated"]).published_precision is DatePrecision.DAY


def test_a_page_headline_worded_slightly_unlike_the_feed_title_is_not_text() -> None:
    page_headline = "Budget approved after a long night in the council"
    article = normalise_item(
        raw_item("Budget approved after a long night at the council", [page_headline, STORY], published_at=NOW)
    )
    assert article.lead == STORY


def test_captions_are_not_text_wherever_they_stand() -> None:
    paragraphs = [STORY, "The new hall seen from the river (Photo: City archive)", STORY]
    assert normalise_item(raw_item("T", paragraphs, published_at=NOW)).text.split("\n\n") == [STORY, STORY]


def test_a_stop_before_a_number_ends_a_sentence_unless_after_a_short_abbreviation() -> None:
    text = "The vote is on Sept. 5 in room no. 10 of the hall. Prices fell. 40 people left."
    assert split_sentences(text) == [
        "The vote is on Sept. 5 in room no. 10 of the hall.",
        "Prices fell.",
        "40 people left.",
    ]


def test_bylines_naming_the_authors_and_time_stamps_above_the_story_are_not_text() -> None:
    item = raw_item(
        "Budget approved", ["Ana Ruiz and Tom Ode, City desk", "14 March 2025, 09:30", STORY], published_at=NOW
    )
    article = normalise_item(item.model_copy(update={"authors": ["Ana Ruiz", "Tom Ode"]}))
    assert article.lead == STORY
