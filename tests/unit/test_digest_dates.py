from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.stages import digest_dates


def test_requested_date_wins() -> None:
    assert digest_dates("2024-01-07", [{"dates": ["2024-02-01"]}], None) == [date(2024, 1, 7)]


def test_asset_events_give_every_touched_day_once() -> None:
    extras = [{"dates": ["2024-01-07", "2024-01-06"]}, {"dates": ["2024-01-07"]}, None]
    assert digest_dates(None, extras, None) == [date(2024, 1, 6), date(2024, 1, 7)]


def test_asset_events_that_touched_nothing_build_nothing() -> None:
    assert digest_dates(None, [{"dates": []}], None) == []


def test_scheduled_run_builds_the_day_before() -> None:
    assert digest_dates(None, [], datetime(2024, 1, 8, 6, tzinfo=UTC)) == [date(2024, 1, 7)]
