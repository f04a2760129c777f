"""The functions DAG tasks (and the `news` command) call: keys and counts in, keys and counts out.

Every stage takes a batch of sources (one shard of a mapped task) and returns one `StageResult` per source.
A source that failed earlier carries its `error` through the later stages untouched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.collect import collect_sources, quarantine
from pipeline.digest import build_digest, publish_digest
from pipeline.enrich import Enricher
from pipeline.errors import PermanentError, StorageError
from pipeline.fulltext import extract_page
from pipeline.lake import compact_day
from pipeline.models import Article, DateSource, RawItem, RunReport, Source, StageResult
from pipeline.normalise import normalise_item
from pipeline.parse import parse_payload
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.storage import (
    ObjectStore,
    StoredObject,
    article_key,
    articles_prefix,
    fetched_at_of,
    raw_day_prefix,
    run_key,
    staging_key,
    state_key,
)
from pipeline.stories import assign_stories

__all__ = [
    "apply_retention",
    "compact_lake",
    "digest_dates",
    "enrich_sources",
    "enricher",
    "fetch_sources",
    "ingest",
    "load_articles",
    "normalise_sources",
    "plan_shards",
    "publish_daily_digest",
    "reenrich",
    "replay",
    "store_sources",
    "write_run_report",
]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _host(source: Source) -> str:
    return urlsplit(str(source.url)).hostname or "" if source.url else f"documents:{source.id}"


def plan_shards(settings: Settings, only: list[str] | None = None) -> list[list[str]]:
    """Split the sources to ingest into at most `max_shards` batches, keeping each host in one batch.

    Few sources give one source per batch (a grid row per source); many are grouped so a run stays a
    handful of tasks, and per-host politeness holds because a host's sources are fetched by one task.
    """
    sources = load_sources(settings).select(only)
    by_host: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        by_host[_host(source)].append(source.id)
    shards: list[list[str]] = [[] for _ in range(min(settings.max_shards, len(by_host)))]
    for group in sorted(by_host.values(), key=len, reverse=True):
        min(shards, key=len).extend(group)
    return sorted(sorted(shard) for shard in shards if shard)


def fetch_sources(
    store: ObjectStore, settings: Settings, source_ids: list[str], run_id: str, force: bool = False
) -> list[StageResult]:
    """Fetch the batch concurrently and archive every new payload under raw/."""
    registry = load_sources(settings)
    return collect_sources(store, settings, registry, [registry.get(i) for i in source_ids], run_id, force)


def _each(
    results: list[StageResult], name: str, stage: Callable[[StageResult], StageResult], concurrency: int = 1
) -> list[StageResult]:
    """Apply one stage to every source that is still going, timing it per source; in order."""

    def timed(result: StageResult) -> StageResult:
        if result.error or result.not_due_until:
            return result
        started = time.perf_counter()
        after = stage(result)
        elapsed = round(time.perf_counter() - started, 3)
        return after.model_copy(update={"durations": after.durations | {name: elapsed}})

    if concurrency == 1:
        return [timed(r) for r in results]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(timed, results))


def _write_jsonl(store: ObjectStore, key: str, articles: Iterable[Article]) -> None:
    body = "".join(a.model_dump_json() + "\n" for a in articles)
    store.put_bytes(key, body.encode(), "application/x-ndjson")


def _read_jsonl(store: ObjectStore, key: str) -> Iterator[Article]:
    for line in store.get_bytes(key).decode().splitlines():
        if line:
            yield Article.model_validate_json(line)


def normalise_source(
    store: ObjectStore, source: Source, fetched: StageResult, payloads: Iterator[StoredObject] | None = None
) -> StageResult:
    """Parse and normalise every archived payload of one source; quarantine what fails, stage the rest.

    `payloads` yields the objects of `fetched.raw_keys` in order (read ahead by the caller); by default
    they are read here.
    """
    if not fetched.raw_keys:  # unchanged (304) or nothing new: no staging objects for the next stages
        return fetched
    articles: list[Article] = []
    read, quarantined = fetched.read, fetched.quarantined
    objects = store.read_ahead(fetched.raw_keys) if payloads is None else payloads
    for key, raw in zip(fetched.raw_keys, itertools.islice(objects, len(fetched.raw_keys)), strict=True):
        fetched_at = fetched_at_of(key)  # from the key, so a replay reads the payload exactly as it was
        digest = _sha256(raw.data)
        try:
            headers = {"content-type": raw.content_type} | (
                {"content-location": url} if (url := raw.metadata.get("url")) else {}
            )
            payload = parse_payload(raw.data, source, key, fetched_at, headers)
        except PermanentError as exc:  # the payload as a whole is unreadable: one item, quarantined
            quarantine(store, source.id, key, digest, str(exc), fetched_at)
            read, quarantined = read + 1, quarantined + 1
            continue
        read += payload.count
        for index, reason in payload.rejected:
            quarantine(store, source.id, key, digest, reason, fetched_at, index)
            quarantined += 1
        if payload.beyond_cap:  # one quarantined entry stands for them all; the payload keeps every item
            cap = source.max_items or 0
            reason = f"{payload.beyond_cap} items after the first {cap} were not read (max_items); all are in {key}"
            quarantine(store, source.id, key, digest, reason, fetched_at, cap)
            read, quarantined = read + 1, quarantined + 1
        for item in payload.items:
            if item.url in fetched.pages:
                item = _with_page_text(store, item, fetched.pages[item.url])
            try:
                articles.append(normalise_item(item))
            except PermanentError as exc:
                quarantine(store, source.id, key, digest, str(exc), fetched_at, item.index)
                quarantined += 1
    key = staging_key(fetched.run_id, "normalised", source.id)
    _write_jsonl(store, key, articles)
    return fetched.model_copy(update={"staging_key": key, "read": read, "quarantined": quarantined})


def _with_page_text(store: ObjectStore, item: RawItem, page_key: str) -> RawItem:
    """Use the article page's main text and canonical URL; keep the feed's text when extraction finds none."""
    page = store.get_object(page_key)
    text = extract_page(page.data, page.metadata.get("url") or item.url or "")
    update: dict[str, Any] = {"url": text.canonical_url or item.url}
    if text.html:
        update |= {"html": text.html, "sections": []}
    if item.published_at is None and text.published is not None:
        update |= {"published_at": text.published, "date_source": DateSource.PAGE}
    return item.model_copy(update=update)


def normalise_sources(store: ObjectStore, settings: Settings, fetched: list[StageResult]) -> list[StageResult]:
    registry = load_sources(settings)

    def capped(source_id: str) -> Source:
        source = registry.get(source_id)
        return source.model_copy(update={"max_items": source.max_items or settings.max_items_per_feed})

    # One read-ahead over the whole batch: the next sources' payloads arrive while this one is parsed.
    going = [r for r in fetched if not (r.error or r.not_due_until)]
    payloads = store.read_ahead(key for r in going for key in r.raw_keys)
    return _each(fetched, "normalise", lambda r: normalise_source(store, capped(r.source), r, payloads))


@cache
def _enricher(languages: tuple[str, ...], model: str, ner_max_chars: int) -> Enricher:
    return Enricher(languages, model, ner_max_chars)


def enricher(settings: Settings) -> Enricher:
    """The process's enricher: the model and gazetteer load once, on first use."""
    return _enricher(tuple(settings.languages), settings.spacy_model, settings.ner_max_chars)


STORE_CONCURRENCY = 16  # requests for articles in flight per task (reads in enrich, writes in store)
_ENRICHED_FIELDS = ("language", "language_confidence", "entities", "quotes", "keywords", "summary", "enrichment")


def enrich_source(store: ObjectStore, settings: Settings, normalised: StageResult) -> StageResult:
    """Add language, entities, quotes, keywords and summary to every staged article of one source.

    Content already stored and enriched by the same enricher versions is not enriched again.
    """
    if normalised.staging_key is None:  # nothing new from this source
        return normalised
    engine = enricher(settings)
    articles = list(_read_jsonl(store, normalised.staging_key))
    done: dict[int, Article] = {}
    with ThreadPoolExecutor(max_workers=STORE_CONCURRENCY) as pool:
        found = list(pool.map(store.get_bytes_or_none, (article_key(a.published_date, a.id) for a in articles)))
    for i, (article, stored) in enumerate(zip(articles, found, strict=True)):
        previous = Article.model_validate_json(stored) if stored else None
        if previous and previous.content_hash == article.content_hash and engine.is_current(previous):
            done[i] = article.model_copy(update={f: getattr(previous, f) for f in _ENRICHED_FIELDS})
    fresh = iter(engine.enrich([a for i, a in enumerate(articles) if i not in done]))
    enriched = [done[i] if i in done else next(fresh) for i in range(len(articles))]
    key = staging_key(normalised.run_id, "enriched", normalised.source)
    _write_jsonl(store, key, enriched)
    store.delete(normalised.staging_key)
    return normalised.model_copy(update={"staging_key": key})


def enrich_sources(store: ObjectStore, settings: Settings, normalised: list[StageResult]) -> list[StageResult]:
    return _each(normalised, "enrich", lambda r: enrich_source(store, settings, r))


def _article_bytes(article: Article) -> bytes:
    return json.dumps(article.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=2).encode() + b"\n"


def write_article(store: ObjectStore, key: str, article: Article, attempts: int = 8) -> bool:
    """Create or update one article with conditional writes; False when it is already stored unchanged.

    A concurrent writer makes the precondition fail; then the article is read again and compared, so two
    runs storing the same article never leave two versions or skip a revision.
    """
    for _ in range(attempts):
        current = store.get_with_etag(key)
        if current is None:
            if store.put_new(key, _article_bytes(article), "application/json"):
                return True
            continue
        data, etag = current
        old = Article.model_validate_json(data)
        if old.content_hash == article.content_hash:
            return False
        newer = article.model_copy(update={"revision": old.revision + 1})
        if store.replace(key, _article_bytes(newer), etag, "application/json"):
            return True
    raise StorageError(f"s3://{store.bucket}/{key}: still changing after {attempts} conditional writes")


def _would_write(store: ObjectStore, key: str, article: Article) -> bool:
    current = store.get_bytes_or_none(key)
    return current is None or Article.model_validate_json(current).content_hash != article.content_hash


def store_source(store: ObjectStore, enriched: StageResult, window_days: int = 7, dry_run: bool = False) -> StageResult:
    """Place each staged article of one source in its story, then write it (see `store_sources`)."""
    articles = list(_read_jsonl(store, enriched.staging_key)) if enriched.staging_key else []
    if not dry_run:
        articles = assign_stories(store, articles, window_days)
    return _write_source(store, enriched, articles, dry_run)


def _write_source(store: ObjectStore, enriched: StageResult, articles: list[Article], dry_run: bool) -> StageResult:
    """Write each article under articles/: unchanged ones count as duplicates, changed ones get a revision.

    A dry run counts what it would write and writes nothing: no article, no story index, no fetch state,
    no inbox move.
    """
    stored = unchanged = 0
    dates: set[date] = set()
    keys: list[str] = []
    write = _would_write if dry_run else write_article
    # Each write is a GET and a conditional PUT: waiting on the network, so several at once (boto3 clients
    # are thread-safe; its pool holds 32 connections).
    with ThreadPoolExecutor(max_workers=STORE_CONCURRENCY) as pool:
        written = pool.map(lambda a: write(store, article_key(a.published_date, a.id), a), articles)
        for article, was_written in zip(articles, list(written), strict=True):
            if was_written:
                stored += 1
                dates.add(article.published_date)
                keys.append(article_key(article.published_date, article.id))
            else:
                unchanged += 1
    if enriched.state is not None and not dry_run:
        # Commit the fetch state only now, so a run that fails earlier refetches next time.
        store.put_json(state_key(enriched.source), enriched.state.model_dump(mode="json"))
    for key, destination in {} if dry_run else enriched.consumed.items():  # stored, so out of the inbox
        store.move(key, destination)
    if enriched.staging_key:
        store.delete(enriched.staging_key)
    # The keys go to the run report through the bucket: handed over as XCom they would grow with the feed.
    listed = None
    if keys and not dry_run:
        listed = staging_key(enriched.run_id, "stored", enriched.source)
        store.put_bytes(listed, json.dumps(keys).encode(), "application/json")
    return enriched.model_copy(
        update={
            "staging_key": listed,
            "stored": stored,
            "unchanged": unchanged,
            "dates": [] if dry_run else sorted(dates),
            "article_keys": [],
            "consumed": {},
            "state": None,
        }
    )


def store_sources(
    store: ObjectStore, settings: Settings, enriched: list[StageResult], dry_run: bool = False
) -> list[StageResult]:
    """Store a shard: its articles are placed in stories together (one update of the story index per shard,
    not per source), then written source by source."""
    active = [r for r in enriched if not (r.error or r.not_due_until) and r.staging_key]
    loaded = {r.source: list(_read_jsonl(store, r.staging_key or "")) for r in active}
    if not dry_run:
        placed = iter(assign_stories(store, [a for r in active for a in loaded[r.source]], settings.story_window_days))
        loaded = {r.source: [next(placed) for _ in loaded[r.source]] for r in active}

    def write(result: StageResult) -> StageResult:
        return _write_source(store, result, loaded.get(result.source, []), dry_run)

    # A source with nothing new only commits its fetch state, one PUT: many of those at once (an unchanged
    # re-run is all of them). The others write their articles 16 at a time, one source after the other.
    quiet = [r for r in enriched if not r.staging_key]
    written = _each([r for r in enriched if r.staging_key], "store", write)
    written += _each(quiet, "store", write, STORE_CONCURRENCY)
    by_source = {r.source: r for r in written}
    return [by_source[r.source] for r in enriched]


def _with_stored_keys(store: ObjectStore, result: StageResult) -> StageResult:
    """Bring back the article keys a store stage left in the bucket (see `store_source`)."""
    if not result.staging_key or "/stored/" not in result.staging_key:
        return result
    keys = json.loads(store.get_bytes(result.staging_key))
    store.delete(result.staging_key)
    return result.model_copy(update={"staging_key": None, "article_keys": keys})


def write_run_report(
    store: ObjectStore,
    dag_id: str,
    run_id: str,
    planned: list[str],
    results: list[StageResult],
    started_at: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[str, RunReport]:
    """Write runs/{dag_id}/{run_id}.json; planned sources with an error or no result are listed as failed."""
    results = [_with_stored_keys(store, r) for r in results]
    done = {r.source for r in results if r.error is None}
    finished = _now()
    report = RunReport(
        dag_id=dag_id,
        run_id=run_id,
        started_at=started_at,
        finished_at=finished,
        duration_s=round((finished - started_at).total_seconds(), 1) if started_at else None,
        params=params or {},
        sources=sorted(results, key=lambda r: r.source),
        not_modified=sum(r.not_modified for r in results),
        read=sum(r.read for r in results),
        stored=sum(r.stored for r in results),
        duplicates=sum(r.duplicates for r in results),
        quarantined=sum(r.quarantined for r in results),
        failed_sources=sorted(set(planned) - done),
        dates=sorted({d for r in results for d in r.dates}),
    )
    key = run_key(dag_id, run_id)
    store.put_json(key, report.model_dump(mode="json"))
    return key, report


def ingest(
    store: ObjectStore,
    settings: Settings,
    run_id: str,
    only: list[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> tuple[str, RunReport]:
    """Run fetch -> normalise -> enrich -> store over every source in this process (no Airflow)."""
    started = _now()
    planned = [source_id for shard in plan_shards(settings, only) for source_id in shard]
    results = fetch_sources(store, settings, planned, run_id, force)
    results = store_sources(
        store, settings, enrich_sources(store, settings, normalise_sources(store, settings, results)), dry_run
    )
    params = {"sources": only or [], "force_refetch": force, "dry_run": dry_run}
    return write_run_report(store, "cli", run_id, planned, results, started, params)


def digest_dates(
    requested: str | None, event_extras: list[dict[str, Any] | None], scheduled_for: datetime | None
) -> list[date]:
    """Days a digest run rebuilds: the one asked for, else those the articles events touched, else yesterday."""
    if requested:
        return [date.fromisoformat(requested)]
    if event_extras:  # asset-triggered: exactly the touched days, none when the ingest stored nothing new
        return sorted({date.fromisoformat(day) for extra in event_extras for day in (extra or {}).get("dates", [])})
    # A scheduled run builds the complete day before it.
    return [(scheduled_for or datetime.now(UTC)).date() - timedelta(days=1)]


def load_articles(store: ObjectStore, day: date) -> Iterator[Article]:
    for key in store.list_keys(articles_prefix(day)):
        yield Article.model_validate_json(store.get_bytes(key))


def publish_daily_digest(store: ObjectStore, settings: Settings, day: date) -> dict[str, str]:
    """Build and publish the digest of `day` in the digest time zone; return the keys written."""
    tz = ZoneInfo(settings.digest_timezone)
    # Articles are partitioned by UTC date; a local day can straddle two of them.
    partitions = [day] if settings.digest_timezone == "UTC" else [day - timedelta(days=1), day, day + timedelta(1)]
    articles = [
        a for part in partitions for a in load_articles(store, part) if a.published_at.astimezone(tz).date() == day
    ]
    digest = build_digest(day, articles, settings.digest_timezone)
    return publish_digest(store, digest, settings.digest_feed_entries)


def compact_lake(store: ObjectStore, day: date) -> str | None:
    """Rewrite the day's Parquet file from its articles; None when the day has none."""
    return compact_day(store, day, load_articles(store, day))


def replay(store: ObjectStore, settings: Settings, day: date, only: list[str] | None = None) -> tuple[str, RunReport]:
    """Rebuild the articles of payloads fetched on `day` from raw/, through the same stages."""
    registry = load_sources(settings)
    source_ids = only or [s.id for s in registry.sources]
    run_id = f"replay__{day.isoformat()}__{_now():%Y%m%dT%H%M%SZ}"
    started = _now()
    results = []
    for source_id in source_ids:
        registry.get(source_id)  # an unknown id is an error, not an empty replay
        keys = sorted(store.list_keys(raw_day_prefix(source_id, day)))
        pages = {}
        for key in (k for k in keys if k.endswith(".html")):
            item = store.get_object(key).metadata.get("item")
            if item:
                pages[item] = key
        payloads = [k for k in keys if not k.endswith(".html")]
        results.append(StageResult(source=source_id, run_id=run_id, raw_keys=payloads, pages=pages))
    results = store_sources(
        store, settings, enrich_sources(store, settings, normalise_sources(store, settings, results))
    )
    params = {"date": day.isoformat(), "sources": only or []}
    return write_run_report(store, "replay", run_id, source_ids, results, started, params)


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
            if new != old and store.replace(key, _article_bytes(new), etag, "application/json"):
                counts["changed"] += 1
    return counts


def _present(loaded: list[tuple[str, tuple[bytes, str] | None]]) -> Iterator[tuple[str, tuple[bytes, str]]]:
    return ((key, found) for key, found in loaded if found is not None)


def apply_retention(store: ObjectStore, settings: Settings, today: date) -> dict[str, int]:
    """Delete raw/ and quarantine/ objects older than their retention; nothing when none is set."""
    deleted = {"raw": 0, "quarantine": 0}
    if settings.raw_retention_days:
        cutoff = today - timedelta(days=settings.raw_retention_days)
        old = [k for k in store.list_keys("raw/") if _raw_day(k) < cutoff]
        store.delete_many(old)
        deleted["raw"] = len(old)
    if settings.quarantine_retention_days:
        cutoff = today - timedelta(days=settings.quarantine_retention_days)
        old = [k for k in store.list_keys("quarantine/") if date.fromisoformat(k.split("/")[1]) < cutoff]
        store.delete_many(old)
        deleted["quarantine"] = len(old)
    return deleted


def _raw_day(key: str) -> date:
    _, _, yyyy, mm, dd, _ = key.split("/", 5)
    return date(int(yyyy), int(mm), int(dd))
