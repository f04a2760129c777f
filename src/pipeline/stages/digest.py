"""What the news_digest DAG's tasks call: the days to rebuild, the day's lake partition, its digest."""

from __future__ import annotations

from datetime import date, timedelta

from pipeline.digest import build_digest, publish_digest
from pipeline.digest.days import day_articles, digest_dates, load_articles
from pipeline.lake import compact_day
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore

__all__ = ["compact_lake", "digest_dates", "publish_daily_digest"]


def publish_daily_digest(store: ObjectStore, settings: Settings, day: date) -> dict[str, str]:
    """Build and publish the digest of `day` in the digest time zone; return the keys written."""
    from pipeline.sources.registry import RegistryError, load_registry
    from pipeline.stories import load_story_records

    try:
        sources = {s.id: s for s in load_registry(settings.sources_file).sources}
    except RegistryError:  # the digest does without the sources' countries and kinds; ingest reports the file
        sources = {}
    window = [day + timedelta(days=n) for n in range(-settings.story_window_days, 2)]
    articles = day_articles(store, day, settings.digest_timezone)
    digest = build_digest(day, articles, settings.digest_timezone, sources, load_story_records(store, window))
    return publish_digest(store, digest, settings.digest_feed_entries)


def compact_lake(store: ObjectStore, day: date) -> str | None:
    """Rewrite the day's Parquet file from its articles; None when the day has none."""
    return compact_day(store, day, load_articles(store, day))
