"""What the news_digest DAG's tasks call: the days to rebuild, the day's lake partition, its digest."""

from __future__ import annotations

from datetime import date

from pipeline.digest import build_digest, publish_digest
from pipeline.digest.days import day_articles, digest_dates, load_articles
from pipeline.lake import compact_day
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore

__all__ = ["compact_lake", "digest_dates", "publish_daily_digest"]


def publish_daily_digest(store: ObjectStore, settings: Settings, day: date) -> dict[str, str]:
    """Build and publish the digest of `day` in the digest time zone; return the keys written."""
    digest = build_digest(day, day_articles(store, day, settings.digest_timezone), settings.digest_timezone)
    return publish_digest(store, digest, settings.digest_feed_entries)


def compact_lake(store: ObjectStore, day: date) -> str | None:
    """Rewrite the day's Parquet file from its articles; None when the day has none."""
    return compact_day(store, day, load_articles(store, day))
