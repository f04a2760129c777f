"""Which days a digest run rebuilds, and the articles that belong to a day in the digest's time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError
from pipeline.models import Article
from pipeline.storage.keys import articles_prefix
from pipeline.storage.store import ObjectStore

__all__ = ["day_articles", "digest_dates", "load_articles"]


def digest_dates(requested: str | None, partition_key: str | None, scheduled_for: datetime | None) -> list[date]:
    """Days a digest run rebuilds: the one asked for, else its partition's day, else the day before it."""
    day = requested or partition_key
    if day:
        try:
            return [date.fromisoformat(day)]
        except ValueError:
            raise ConfigError(f"not a day (YYYY-MM-DD): {day!r}") from None
    # A run with neither (a manual one) builds the complete day before it.
    return [(scheduled_for or datetime.now(UTC)).date() - timedelta(days=1)]


def load_articles(store: ObjectStore, day: date) -> Iterator[Article]:
    """The stored articles published on `day` (UTC), as partitioned under articles/."""
    for key in store.list_keys(articles_prefix(day)):
        yield Article.model_validate_json(store.get_bytes(key))


def day_articles(store: ObjectStore, day: date, timezone: str) -> list[Article]:
    """The articles published on `day` in `timezone`."""
    tz = ZoneInfo(timezone)
    # Articles are partitioned by UTC date; a local day can straddle two of them.
    partitions = [day] if timezone == "UTC" else [day - timedelta(days=1), day, day + timedelta(days=1)]
    return [a for part in partitions for a in load_articles(store, part) if a.published_at.astimezone(tz).date() == day]
