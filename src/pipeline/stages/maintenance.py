"""Work on what is already in the bucket: replay raw/ payloads, re-enrich stored articles, apply retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from pipeline.models import Article, Fetched, RunReport
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.stages.enrich import enrich_sources, enricher
from pipeline.stages.handover import archived_value, utc_now
from pipeline.stages.normalise import normalise_sources
from pipeline.stages.report import write_run_report
from pipeline.stages.store import article_bytes, store_sources
from pipeline.storage.keys import (
    QUARANTINE_PREFIX,
    RAW_PREFIX,
    articles_prefix,
    is_page_key,
    quarantine_day_of,
    raw_day_of,
    raw_day_prefix,
)
from pipeline.storage.store import ObjectStore

__all__ = ["apply_retention", "newest_articles", "reenrich", "replay"]

_ARTICLES = "articles/"  # then date=YYYY-MM-DD/: keys sort by published day


def replay(store: ObjectStore, settings: Settings, day: date, only: list[str] | None = None) -> tuple[str, RunReport]:
    """Rebuild the articles of payloads fetched on `day` from raw/, through the same stages."""
    registry = load_sources(settings)
    source_ids = only or [s.id for s in registry.sources]
    run_id = f"replay__{day.isoformat()}__{utc_now():%Y%m%dT%H%M%SZ}"
    started = utc_now()
    fetched = []
    for source_id in source_ids:
        registry.get(source_id)  # an unknown id is an error, not an empty replay
        keys = sorted(store.list_keys(raw_day_prefix(source_id, day)))
        pages = {}
        for key in filter(is_page_key, keys):
            item = archived_value(store.get_object(key).metadata, "item")
            if item:
                pages[item] = key
        payloads = [k for k in keys if not is_page_key(k)]
        fetched.append(Fetched(source=source_id, run_id=run_id, raw_keys=payloads, pages=pages))
    stored = store_sources(
        store, settings, enrich_sources(store, settings, normalise_sources(store, settings, fetched))
    )
    params = {"date": day.isoformat(), "sources": only or []}
    return write_run_report(store, "replay", run_id, source_ids, stored, started, params)


def reenrich(store: ObjectStore, settings: Settings, day: date, batch: int = 64) -> dict[str, int]:
    """Enrich the stored articles of `day` again with the current enrichers; stories and revisions are kept.

    Each article is replaced only if its enrichment changed, with a conditional write so a concurrent ingest
    is never overwritten.
    """
    engine = enricher(settings)
    keys = sorted(store.list_keys(articles_prefix(day)))
    counts = {"read": 0, "changed": 0}
    for start in range(0, len(keys), batch):
        loaded = [(key, store.get_with_etag(key)) for key in keys[start : start + batch]]
        current = [(key, etag, Article.model_validate_json(data)) for key, (data, etag) in _present(loaded)]
        fresh = engine.enrich([article for _, _, article in current])
        for (key, etag, old), new in zip(current, fresh, strict=True):
            counts["read"] += 1
            story = {"story": old.enrichment["story"]} if "story" in old.enrichment else {}
            new = new.model_copy(update={"enrichment": new.enrichment | story})
            if new != old and store.replace(key, article_bytes(new), etag, "application/json"):
                counts["changed"] += 1
    return counts


def newest_articles(store: ObjectStore, count: int) -> list[Article]:
    """The `count` most recently published stored articles: the newest days are read whole, then sorted."""
    keys = sorted(store.list_keys(_ARTICLES), reverse=True)
    chosen: list[str] = []
    for key in keys:
        day = key.rsplit("/", 1)[0]
        if len(chosen) >= count and not chosen[-1].startswith(day + "/"):
            break
        chosen.append(key)
    articles = [Article.model_validate_json(o.data) for o in store.read_ahead(chosen)]
    return sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)[:count]


def _present(loaded: list[tuple[str, tuple[bytes, str] | None]]) -> Iterator[tuple[str, tuple[bytes, str]]]:
    return ((key, found) for key, found in loaded if found is not None)


def apply_retention(store: ObjectStore, settings: Settings, today: date) -> dict[str, int]:
    """Delete raw/ and quarantine/ objects older than their retention; nothing when none is set."""
    deleted = {"raw": 0, "quarantine": 0}
    if settings.raw_retention_days:
        cutoff = today - timedelta(days=settings.raw_retention_days)
        old = [k for k in store.list_keys(RAW_PREFIX) if raw_day_of(k) < cutoff]
        store.delete_many(old)
        deleted["raw"] = len(old)
    if settings.quarantine_retention_days:
        cutoff = today - timedelta(days=settings.quarantine_retention_days)
        old = [k for k in store.list_keys(QUARANTINE_PREFIX) if quarantine_day_of(k) < cutoff]
        store.delete_many(old)
        deleted["quarantine"] = len(old)
    return deleted
