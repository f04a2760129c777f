"""Watchlists: the `[[watchlists]]` loader, matching a digest's stories, and when a story is due an alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.digest import build_digest
from pipeline.models import DigestStory
from pipeline.stages.alerts import alert_message, alert_payload, story_link
from pipeline.watchlists import (
    Alert,
    AlertRecord,
    AlertState,
    Watchlist,
    WatchlistError,
    load_watchlists,
    match_story,
    next_alert,
    story_sources,
)
from tests.support.articles import DAY
from tests.support.watchlists import story_reports

NOW = datetime(2024, 1, 8, 6, tzinfo=UTC)
HOUR = 3600.0


def story_of(**reports: Any) -> DigestStory:
    """The one story the digest builds from these reports."""
    [story] = build_digest(DAY, story_reports(**reports)).stories
    return story


QUAKE = {
    "story": "s1",
    "title": "Earthquake shakes northern Hokkaido",
    "sources": ["wire", "daily"],
    "first": 1,
    "copies": ["portal", "daily"],
    "people": ["Fumio Kishida"],
    "places": [("Asahikawa", "JP")],
}


def test_loader_reads_watchlists_beside_sources(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nid = "wire"\nkind = "feed"\nurl = "https://wire.example/rss"\n\n'
        '[[watchlists]]\nname = "quakes"\nwords = ["earthquake", "  aftershock  "]\ncountries = ["jp"]\n'
        'grow_by = 3\nemail = ["desk@news.test"]\nwebhook = "news_hook"\n'
    )
    [watchlist] = load_watchlists(path)
    assert watchlist.words == ["earthquake", "aftershock"] and watchlist.countries == ["JP"]
    assert watchlist.grow_by == 3 and watchlist.email == ["desk@news.test"] and watchlist.webhook == "news_hook"
    path.write_text('[[sources]]\nid = "wire"\nkind = "feed"\nurl = "https://wire.example/rss"\n')
    assert load_watchlists(path) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('name = "q"\nwords = ["x"]\nemail = ["not-an-address"]', "watchlist #1 ('q'): email: Value error, not e-mail"),
        ('name = "q"\nwords = ["x"]', "watchlist #1 ('q'): (entry): Value error, a watchlist needs `email`"),
        ('name = "q"\nemail = ["a@b.test"]', "watchlist #1 ('q'): (entry): Value error, a watchlist needs words"),
        ('name = "Q Q"\nwords = ["x"]\nemail = ["a@b.test"]', "watchlist #1 ('Q Q'): name: String should match"),
        (
            'name = "q"\nwords = ["x"]\nemail = ["a@b.test"]\ngrow_by = 0',
            "watchlist #1 ('q'): grow_by: Input should be greater",
        ),
        (
            'name = "q"\ncountries = ["Japan"]\nemail = ["a@b.test"]',
            "watchlist #1 ('q'): countries: Value error, not ISO",
        ),
        (
            'name = "q"\nwords = ["x"]\nemail = ["a@b.test"]\nkeywords = ["y"]',
            "watchlist #1 ('q'): keywords: Extra inputs",
        ),
    ],
)
def test_loader_names_the_file_watchlist_and_field(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(f"[[watchlists]]\n{body}\n")
    with pytest.raises(WatchlistError) as caught:
        load_watchlists(path)
    assert f"{path}: {problem}" in str(caught.value)


def test_loader_refuses_duplicate_names_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[watchlists]]\nname = "q"\nwords = ["x"]\nemail = ["a@b.test"]\n' * 2)
    with pytest.raises(WatchlistError, match="watchlist 'q': name: duplicate name"):
        load_watchlists(path)
    with pytest.raises(WatchlistError, match="sources file not found"):
        load_watchlists(tmp_path / "absent.toml")


def test_a_story_counts_each_source_once_whatever_its_copies() -> None:
    story = story_of(**QUAKE)
    assert story_sources(story) == {"WIRE", "DAILY", "PORTAL"}


def watch(**terms: object) -> Watchlist:
    return Watchlist.model_validate({"name": "w", "email": ["desk@news.test"], **terms})


@pytest.mark.parametrize(
    ("terms", "matches"),
    [
        ({"words": ["earthquake"]}, True),
        ({"words": ["EARTHQUAKE shakes"]}, True),  # a phrase, any case
        ({"words": ["quake"]}, False),  # whole words only
        ({"words": ["tsunami", "hokkaido"]}, True),  # any word of the list
        ({"people": ["Kishida"]}, True),  # a whole-word part of the name
        ({"people": ["Kish"]}, False),
        ({"places": ["asahikawa"]}, True),
        ({"countries": ["JP"]}, True),  # a place of the story is in Japan
        ({"countries": ["FR"]}, False),
        ({"sources": ["portal"]}, True),  # it reported a copy: it still reported the story
        ({"sources": ["other"]}, False),
        ({"words": ["earthquake"], "countries": ["FR"]}, False),  # every kind set must match
        ({"words": ["earthquake"], "people": ["Fumio Kishida"], "sources": ["wire"]}, True),
    ],
)
def test_matching_needs_every_kind_of_term_the_watchlist_sets(terms: dict[str, object], matches: bool) -> None:
    story = story_of(**QUAKE)
    countries = {"Asahikawa": "JP"}
    names = {"wire": ["wire", "WIRE"], "portal": ["portal", "PORTAL"]}

    def names_of(source: str) -> list[str]:
        return names.get(source, [source])

    assert match_story(watch(**terms), story, None, countries.get, names_of) is matches


def test_a_story_without_places_matches_its_sections_country() -> None:
    story = story_of(**(QUAKE | {"places": []}))
    assert not match_story(watch(countries=["JP"]), story)
    assert match_story(watch(countries=["JP"]), story, country="JP")


def state(*records: AlertRecord, sources: int = 3) -> AlertState:
    return AlertState(watchlist="w", story_id="s1", sources=[f"s{n}" for n in range(sources)], alerts=list(records))


def record(number: int, sources: int, sent: bool = True, run_id: str = "r0", age: float = 0) -> AlertRecord:
    claimed = NOW - timedelta(seconds=age)
    return AlertRecord(number=number, day=DAY, sources=sources, run_id=run_id, claimed_at=claimed, sent=sent)


def names(count: int) -> set[str]:
    return {f"s{n}" for n in range(count)}


def test_the_first_match_is_due_its_first_alert() -> None:
    due = next_alert(None, names(2), None, DAY, "r1", NOW, HOUR)
    assert due == AlertRecord(number=1, day=DAY, sources=2, run_id="r1", claimed_at=NOW)


@pytest.mark.parametrize(
    ("grow_by", "now_sources", "due"),
    [
        (None, 50, None),  # without grow_by a story alerts once
        (3, 5, None),  # grown by 2 of 3
        (3, 6, 2),  # grown by 3
        (1, 4, 2),
    ],
)
def test_a_story_is_due_again_when_it_has_grown_by_grow_by_sources(
    grow_by: int | None, now_sources: int, due: int | None
) -> None:
    found = next_alert(state(record(1, 3)), names(now_sources), grow_by, DAY, "r1", NOW, HOUR)
    assert (found.number if found else None) == due
    if found:
        assert found.sources == now_sources and not found.sent


def test_growth_counts_sources_seen_in_earlier_digests_too() -> None:
    # Three sources when alerted, two more seen (and recorded) since, one more today: grown by 3.
    earlier = state(record(1, 3), sources=5)
    found = next_alert(earlier, {"s0", "new"}, 3, DAY, "r1", NOW, HOUR)
    assert found is not None and found.number == 2 and found.sources == 6


def test_an_alert_another_run_is_sending_is_left_to_it_unless_that_run_died() -> None:
    pending = state(record(1, 3, sent=False, run_id="r0", age=60))
    assert next_alert(pending, names(3), 1, DAY, "r1", NOW, HOUR) is None
    retried = next_alert(pending, names(3), 1, DAY, "r0", NOW, HOUR)  # the same run, retried
    assert retried is not None and retried.number == 1 and retried.run_id == "r0"
    given_back = state(record(1, 3, sent=False, run_id="", age=60))  # its run failed to send it
    back = next_alert(given_back, names(3), 1, DAY, "r1", NOW, HOUR)
    assert back is not None and back.number == 1 and back.run_id == "r1"
    stale = state(record(1, 3, sent=False, run_id="r0", age=2 * HOUR))
    taken = next_alert(stale, names(3), 1, DAY, "r1", NOW, HOUR)
    assert taken is not None and taken.number == 1 and taken.run_id == "r1" and taken.claimed_at == NOW


def test_an_alert_links_its_story_and_escapes_feed_text() -> None:
    link = story_link("https://news.example.org/digests/{date}/digest.html", date(2024, 1, 7), "abc")
    assert link == "https://news.example.org/digests/2024-01-07/digest.html#story-abc"
    alert = Alert(
        watchlist="quakes",
        story_id="abc",
        number=2,
        kind="grown",
        day=date(2024, 1, 7),
        headline="Quake <script>alert(1)</script>\nSubject: forged",
        summary="Tremors & damage",
        url="https://wire.example/1",
        link=link,
        sources=["WIRE", "DAILY", "PORTAL"],
        new_sources=["PORTAL"],
        email=["desk@news.test"],
        webhook="news_hook",
        run_id="r1",
    )
    subject, body = alert_message(alert)
    assert subject == "[quakes] Quake <script>alert(1)</script> Subject: forged (now 3 sources)"
    assert "<script>" not in body and "&lt;script&gt;" in body and "Tremors &amp; damage" in body
    assert f'<a href="{link}">' in body and "New sources: PORTAL" in body
    payload = alert_payload(alert)
    assert payload["link"] == link and payload["day"] == "2024-01-07" and payload["new_sources"] == ["PORTAL"]
    assert not {"email", "webhook", "run_id"} & payload.keys()
