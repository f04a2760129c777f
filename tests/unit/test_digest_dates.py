from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.errors import ConfigError
from pipeline.stages import digest_dates


def test_requested_date_wins() -> None:
    assert digest_dates("2024-01-07", "2024-02-01", None) == [date(2024, 1, 7)]


def test_a_partitioned_run_builds_its_day() -> None:
    assert digest_dates(None, "2024-01-06", datetime(2024, 3, 1, tzinfo=UTC)) == [date(2024, 1, 6)]


def test_a_run_without_date_or_partition_builds_the_day_before() -> None:
    assert digest_dates(None, None, datetime(2024, 1, 8, 6, tzinfo=UTC)) == [date(2024, 1, 7)]


def test_a_partition_that_is_not_a_day_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not a day"):
        digest_dates(None, "us|2024-01-07", None)
