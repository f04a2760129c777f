"""The functions DAG tasks (and the `news` command) call: keys and counts in, keys and counts out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.digest import build_digest, publish_digest
from pipeline.enrich import enrich_article
from pipeline.errors import PermanentError, PipelineError
from pipeline.models import Article, QuarantineRecord, RunReport, SourceKind, SourceState, StageResult
from pipeline.normalise import normalise_item
from pipeline.parse import parse_document
from pipeline.settings import Settings
from pipeline.sources import load_registry, read_documents
from pipeline.sources.documents import MAX_DOCUMENT_BYTES
from pipeline.storage import (
    ObjectStore,
    article_key,
    articles_prefix,
    quarantine_key,
    raw_key,
    run_key,
    staging_key,
    state_key,
)

__all__ = [
    "digest_dates",
    "enrich_source",
    "fetch_source",
    "ingest",
    "load_articles",
    "normalise_source",
    "plan_sources",
    "publish_daily_digest",
    "store_source",
    "write_run_report",
]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plan_sources(settings: Settings, only: list[str] | None = None) -> list[str]:
    """Return the ids of the sources to ingest: the enabled ones, or exactly those named."""
    return [s.id for s in load_registry(settings.sources_file).select(only)]


def load_state(store: ObjectStore, source: str) -> SourceState:
    data = store.get_bytes_or_none(state_key(source))
    return SourceState.model_validate_json(data) if data else SourceState(source=source)


def quarantine(
    store: ObjectStore,
    source: str,
    raw: str,
    payload_sha256: str,
    reason: str,
    when: datetime,
    index: int | None = None,
) -> str:
    """Record rejected input with its reason, keyed by its content so that re-runs converge."""
    identity = payload_sha256 if index is None else _sha256(f"{payload_sha256}#{index}".encode())
    key = quarantine_key(when.date(), source, identity)
    record = QuarantineRecord(source=source, raw_key=raw, item_index=index, reason=reason, quarantined_at=when)
    if store.etag(key) is None:
        store.put_json(key, record.model_dump(mode="json"))
    return key


def fetch_source(
    store: ObjectStore, settings: Settings, source_id: str, run_id: str, force: bool = False
) -> StageResult:
    """Archive every new or changed payload of the source under raw/ and return their keys."""
    registry = load_registry(settings.sources_file)
    source = registry.get(source_id)
    if source.kind is not SourceKind.DOCUMENTS:
        raise PermanentError(f"source {source.id!r}: fetching {source.kind} sources is not supported yet")
    state = load_state(store, source.id)
    fetched_at = _now()
    raw_keys: list[str] = []
    seen = dict(state.documents)
    read = quarantined = not_modified = 0
    for doc in read_documents(source, registry.base_dir, store):
        digest = _sha256(doc.data)
        if not force and state.documents.get(doc.name) == digest:
            not_modified += 1  # unchanged since it was last stored: like a 304, nothing to redo
            continue
        key = raw_key(source.id, fetched_at, digest, "txt")
        if len(doc.data) > MAX_DOCUMENT_BYTES:
            reason = f"document {doc.name!r} is larger than {MAX_DOCUMENT_BYTES} bytes"
            quarantine(store, source.id, key, digest, reason, fetched_at)
            read += 1
            quarantined += 1
            continue
        store.put_if_changed(key, doc.data, "text/plain; charset=utf-8")
        raw_keys.append(key)
        seen[doc.name] = digest
    new_state = state.model_copy(update={"documents": seen, "last_success_at": fetched_at})
    return StageResult(
        source=source.id,
        run_id=run_id,
        fetched_at=fetched_at,
        raw_keys=raw_keys,
        not_modified=not_modified,
        read=read,
        quarantined=quarantined,
        state=new_state,
    )


def _write_jsonl(store: ObjectStore, key: str, articles: Iterable[Article]) -> None:
    body = "".join(a.model_dump_json() + "\n" for a in articles)
    store.put_bytes(key, body.encode(), "application/x-ndjson")


def _read_jsonl(store: ObjectStore, key: str) -> Iterator[Article]:
    for line in store.get_bytes(key).decode().splitlines():
        if line:
            yield Article.model_validate_json(line)


def normalise_source(store: ObjectStore, settings: Settings, fetched: StageResult) -> StageResult:
    """Parse and normalise every archived payload; quarantine what fails, stage the rest."""
    source = load_registry(settings.sources_file).get(fetched.source)
    articles: list[Article] = []
    read, quarantined = fetched.read, fetched.quarantined
    fetched_at = fetched.fetched_at or _now()
    for key in fetched.raw_keys:
        read += 1
        data = store.get_bytes(key)
        try:
            articles.append(normalise_item(parse_document(data, source, key, fetched_at)))
        except PermanentError as exc:
            quarantine(store, source.id, key, _sha256(data), str(exc), fetched_at, index=0)
            quarantined += 1
    key = staging_key(fetched.run_id, "normalised", source.id)
    _write_jsonl(store, key, articles)
    return fetched.model_copy(update={"staging_key": key, "read": read, "quarantined": quarantined})


def enrich_source(store: ObjectStore, settings: Settings, normalised: StageResult) -> StageResult:
    """Add language, summary and story to every staged article."""
    assert normalised.staging_key is not None
    languages = tuple(settings.languages)
    enriched = [enrich_article(a, languages) for a in _read_jsonl(store, normalised.staging_key)]
    key = staging_key(normalised.run_id, "enriched", normalised.source)
    _write_jsonl(store, key, enriched)
    store.delete(normalised.staging_key)
    return normalised.model_copy(update={"staging_key": key})


def _article_bytes(article: Article) -> bytes:
    return json.dumps(article.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=2).encode() + b"\n"


def store_source(store: ObjectStore, settings: Settings, enriched: StageResult) -> StageResult:
    """Write each article under articles/: unchanged ones count as duplicates, changed ones get a revision."""
    assert enriched.staging_key is not None
    stored = unchanged = 0
    dates: set[date] = set()
    keys: list[str] = []
    for article in _read_jsonl(store, enriched.staging_key):
        key = article_key(article.published_date, article.id)
        previous = store.get_bytes_or_none(key)
        if previous is not None:
            old = Article.model_validate_json(previous)
            if old.content_hash == article.content_hash:
                unchanged += 1
                continue
            article = article.model_copy(update={"revision": old.revision + 1})
        store.put_if_changed(key, _article_bytes(article), "application/json")
        stored += 1
        dates.add(article.published_date)
        keys.append(key)
    if enriched.state is not None:
        # Commit the fetch state only now, so a run that fails earlier refetches next time.
        store.put_json(state_key(enriched.source), enriched.state.model_dump(mode="json"))
    store.delete(enriched.staging_key)
    return enriched.model_copy(
        update={
            "staging_key": None,
            "stored": stored,
            "unchanged": unchanged,
            "dates": sorted(dates),
            "article_keys": keys,
            "state": None,
        }
    )


def write_run_report(
    store: ObjectStore, dag_id: str, run_id: str, planned: list[str], results: list[StageResult]
) -> tuple[str, RunReport]:
    """Write runs/{dag_id}/{run_id}.json; sources that produced no result are listed as failed."""
    done = {r.source for r in results if r.error is None}
    report = RunReport(
        dag_id=dag_id,
        run_id=run_id,
        finished_at=_now(),
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
    store: ObjectStore, settings: Settings, run_id: str, only: list[str] | None = None, force: bool = False
) -> tuple[str, RunReport]:
    """Run fetch -> normalise -> enrich -> store for each source in this process (no Airflow)."""
    planned = plan_sources(settings, only)
    results: list[StageResult] = []
    for source_id in planned:
        try:
            result = fetch_source(store, settings, source_id, run_id, force)
            result = normalise_source(store, settings, result)
            result = enrich_source(store, settings, result)
            results.append(store_source(store, settings, result))
        except PipelineError as exc:
            results.append(StageResult(source=source_id, run_id=run_id, error=str(exc)))
    return write_run_report(store, "cli", run_id, planned, results)


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
