"""The store stage: place a shard's articles in stories, write each one conditionally, commit fetch state."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from pipeline.errors import ObjectNotFound, TransientStorageError
from pipeline.models import Article, Enriched, Stored
from pipeline.settings import Settings
from pipeline.sources.state import StateCache, save_state
from pipeline.stages.handover import advance, for_each_source, read_jsonl
from pipeline.storage.keys import article_key, staging_key
from pipeline.storage.store import ObjectStore

__all__ = ["article_bytes", "store_source", "store_sources", "write_article"]


def article_bytes(article: Article) -> bytes:
    """An article as stored: the same article always gives the same bytes."""
    return json.dumps(article.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=2).encode() + b"\n"


def write_article(store: ObjectStore, key: str, article: Article, attempts: int = 8) -> bool:
    """Create or update one article with conditional writes; False when it is already stored unchanged (same
    content and tags), or stored by another source (whose article this one may never replace: it counts as this
    source's duplicate).

    A new article costs one request: a PUT with If-None-Match: *; only when the key exists is it read and
    compared. A concurrent writer makes a precondition fail; then the article is read again and compared, so two
    runs storing the same article never leave two versions or skip a revision.
    """
    if store.put_new(key, article_bytes(article), "application/json"):
        return True
    for _ in range(attempts):
        current = store.get_with_etag(key)
        if current is None:  # deleted since: create it again
            if store.put_new(key, article_bytes(article), "application/json"):
                return True
            continue
        data, etag = current
        old = Article.model_validate_json(data)
        if not _changes(old, article):
            return False
        if old.content_hash == article.content_hash:  # only the rules' tags changed: the same revision
            newer = old.model_copy(update={"tags": article.tags})
        else:
            newer = article.model_copy(update={"revision": old.revision + 1})
        if store.replace(key, article_bytes(newer), etag, "application/json"):
            return True
    raise TransientStorageError(f"s3://{store.bucket}/{key}: still changing after {attempts} conditional writes")


def _would_write(store: ObjectStore, key: str, article: Article) -> bool:
    current = store.get_bytes_or_none(key)
    if current is None:
        return True
    return _changes(Article.model_validate_json(current), article)


def _changes(old: Article, new: Article) -> bool:
    # Another source's article is never replaced; the tags follow the rules of the latest run.
    return old.source == new.source and (old.content_hash != new.content_hash or old.tags != new.tags)


def store_sources(
    store: ObjectStore, settings: Settings, enriched: list[Enriched], dry_run: bool = False
) -> list[Stored]:
    """Store a shard: its articles are placed in stories together (one update of the story index per shard,
    not per source), then written source by source."""
    active = [r for r in enriched if r.going and r.enriched_key]
    loaded = {r.source: list(read_jsonl(store, r.enriched_key or "")) for r in active}
    if active and not dry_run:
        from pipeline.stories import assign_stories  # MinHash and Parquet load in seconds: only with articles

        placed = iter(assign_stories(store, [a for r in active for a in loaded[r.source]], settings.story_window_days))
        loaded = {r.source: [next(placed) for _ in loaded[r.source]] for r in active}

    def write(result: Enriched) -> Stored:
        return _write_source(store, settings, result, loaded.get(result.source, []), dry_run)

    # A source with nothing new only commits its fetch state, one PUT: many of those at once (an unchanged
    # re-run is all of them). The others write their articles several at a time, one source after the other.
    quiet = [r for r in enriched if not r.enriched_key]
    written = for_each_source([r for r in enriched if r.enriched_key], "store", write, Stored)
    written += for_each_source(quiet, "store", write, Stored, settings.store_concurrency)
    by_source = {r.source: r for r in written}
    return [by_source[r.source] for r in enriched]


def store_source(store: ObjectStore, settings: Settings, enriched: Enriched, dry_run: bool = False) -> Stored:
    """Place each staged article of one source in its story, then write it (see `store_sources`)."""
    articles = list(read_jsonl(store, enriched.enriched_key)) if enriched.enriched_key else []
    if articles and not dry_run:
        from pipeline.stories import assign_stories

        articles = assign_stories(store, articles, settings.story_window_days)
    return _write_source(store, settings, enriched, articles, dry_run)


def _write_source(
    store: ObjectStore, settings: Settings, enriched: Enriched, articles: list[Article], dry_run: bool
) -> Stored:
    """Write each article under articles/: unchanged ones count as duplicates, changed ones get a revision.

    A dry run counts what it would write and writes nothing: no article, no story index, no fetch state,
    no inbox move.
    """
    stored = duplicates = 0
    dates: set[date] = set()
    keys: list[str] = []
    write = _would_write if dry_run else write_article
    # Each write is a GET and a conditional PUT: waiting on the network, so several at once (boto3 clients
    # are thread-safe).
    with ThreadPoolExecutor(max_workers=settings.store_concurrency) as pool:
        written = pool.map(lambda a: write(store, article_key(a.published_date, a.id), a), articles)
        for article, was_written in zip(articles, list(written), strict=True):
            if was_written:
                stored += 1
                dates.add(article.published_date)
                keys.append(article_key(article.published_date, article.id))
            else:
                duplicates += 1
    if enriched.state is not None and not dry_run:
        save_state(
            store, enriched.state, StateCache.from_settings(settings)
        )  # only now, so a run that fails earlier refetches next time
    for key, destination in {} if dry_run else enriched.consumed.items():  # stored, so out of the inbox
        with contextlib.suppress(ObjectNotFound):  # the inbox trigger claimed it meanwhile: its run finds a duplicate
            store.move(key, destination)
    if enriched.enriched_key:
        store.delete(enriched.enriched_key)
    # The keys go to the run report through the bucket: handed over as XCom they would grow with the feed.
    listed = None
    if keys and not dry_run:
        listed = staging_key(enriched.run_id, "stored", enriched.source)
        store.put_bytes(listed, json.dumps(keys).encode(), "application/json")
    return advance(
        enriched,
        Stored,
        stored=stored,
        duplicates=duplicates,
        dates=[] if dry_run else sorted(dates),
        stored_keys_key=listed,
        consumed={},
        state=None,
    )
