"""Fetch a batch of sources concurrently and archive what is new under raw/, keeping each source's health."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.errors import PermanentError, PipelineError, StorageError
from pipeline.fetch import Fetcher, FetchPolicy, FetchResponse, HttpStatusError
from pipeline.fulltext import RobotsRules
from pipeline.inbox import processed_key
from pipeline.models import QuarantineRecord, Source, SourceHealth, SourceKind, SourceState, StageResult
from pipeline.parse import parse_payload
from pipeline.settings import Settings
from pipeline.sources import Registry, read_documents
from pipeline.storage import STATE_PREFIX, ObjectStore, quarantine_key, raw_key, state_key

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "SourceCheck",
    "check_sources",
    "collect_sources",
    "fetch_policy",
    "load_state",
    "quarantine",
]

S3_THREADS = 32
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=24)
EXTENSIONS = {SourceKind.FEED: "xml", SourceKind.JSONFEED: "json", SourceKind.DOCUMENTS: "txt"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_policy(settings: Settings) -> FetchPolicy:
    agent = FetchPolicy.user_agent + (f" (+{settings.contact_url})" if settings.contact_url else "")
    return FetchPolicy(
        user_agent=agent,
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout,
        allow_private_networks=settings.allow_private_networks,
        concurrency=settings.fetch_concurrency,
        per_host_concurrency=settings.fetch_per_host_concurrency,
        per_host_delay=settings.fetch_per_host_delay,
    )


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


def failed_state(state: SourceState, error: PipelineError, now: datetime) -> SourceState:
    """Count the failure and back off exponentially, with jitter so failing sources do not retry in step."""
    failures = state.consecutive_failures + 1
    delay = min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_CAP) * random.uniform(0.8, 1.2)  # noqa: S311
    status = error.status if isinstance(error, HttpStatusError) else None
    if isinstance(error, HttpStatusError) and error.retry_after is not None:
        delay = max(delay, timedelta(seconds=error.retry_after))
    gone = isinstance(error, HttpStatusError) and error.permanent
    return state.model_copy(
        update={
            "health": SourceHealth.DISABLED if gone else SourceHealth.FAILING,
            "consecutive_failures": failures,
            "last_error": str(error),
            "last_status": status,
            "next_attempt_at": now + delay,
        }
    )


def _collect_documents(
    store: ObjectStore,
    registry: Registry,
    source: Source,
    state: SourceState,
    run_id: str,
    now: datetime,
    force: bool,
    max_bytes: int,
) -> StageResult:
    raw_keys: list[str] = []
    consumed: dict[str, str] = {}
    seen = dict(state.documents)
    read = quarantined = not_modified = 0
    for doc in read_documents(source, registry.base_dir, store, max_bytes):
        # An oversized document is never read: name and size stand in for its content.
        digest = _sha256(f"{doc.name}\n{doc.size}".encode() if doc.too_large(max_bytes) else doc.data)
        if source.consume and doc.key:
            destination = processed_key(doc.key, doc.name)
            if destination is None:
                continue  # not the inbox's own: processed/, or another folder
            consumed[doc.key] = destination  # moved away once stored, so nothing to remember
        elif not force and state.documents.get(doc.name) == digest:
            not_modified += 1  # unchanged since it was last stored: like a 304, nothing to redo
            continue
        else:
            seen[doc.name] = digest
        key = raw_key(source.id, now, digest, "txt")
        if doc.too_large(max_bytes):
            reason = f"document {doc.name!r} has {doc.size} bytes, more than the {max_bytes} allowed"
            quarantine(store, source.id, key, digest, reason, now)
            read += 1
            quarantined += 1
            continue
        store.put_if_changed(key, doc.data, "text/plain; charset=utf-8")
        raw_keys.append(key)
    healthy = state.model_copy(
        update={"documents": seen, "last_success_at": now, "health": SourceHealth.HEALTHY, "consecutive_failures": 0}
    )
    return StageResult(
        source=source.id,
        run_id=run_id,
        fetched_at=now,
        raw_keys=raw_keys,
        consumed=consumed,
        not_modified=not_modified,
        read=read,
        quarantined=quarantined,
        state=healthy,
    )


async def _collect_feed(
    fetcher: Fetcher,
    robots: RobotsRules,
    store: ObjectStore,
    source: Source,
    state: SourceState,
    run_id: str,
    now: datetime,
    force: bool,
) -> StageResult:
    response = await fetcher.get(
        str(source.url),
        etag=None if force else state.etag,
        last_modified=None if force else state.last_modified,
        allow_private=source.allow_private_network,
    )
    digest = _sha256(response.body) if not response.not_modified else state.content_sha256
    unchanged = response.not_modified or (not force and digest == state.content_sha256)
    healthy = state.model_copy(
        update={
            "etag": response.headers.get("etag") or (state.etag if response.not_modified else None),
            "last_modified": response.headers.get("last-modified")
            or (state.last_modified if response.not_modified else None),
            "content_sha256": digest,
            "health": SourceHealth.HEALTHY,
            "consecutive_failures": 0,
            "last_error": None,
            "last_status": response.status,
            "next_attempt_at": now + timedelta(seconds=response.max_age) if response.max_age else None,
            "last_success_at": now,
        }
    )
    result = StageResult(source=source.id, run_id=run_id, fetched_at=now, state=healthy)
    if unchanged:
        return result.model_copy(update={"not_modified": 1})
    key = raw_key(source.id, now, digest or "", EXTENSIONS[source.kind])
    content_type = response.headers.get("content-type", "application/octet-stream")
    await asyncio.to_thread(store.put_bytes, key, response.body, content_type, {"url": response.url})
    pages = await _collect_pages(fetcher, robots, store, source, key, response, now) if source.fetch_fulltext else {}
    return result.model_copy(update={"raw_keys": [key], "pages": pages})


async def _collect_pages(
    fetcher: Fetcher,
    robots: RobotsRules,
    store: ObjectStore,
    source: Source,
    key: str,
    feed: FetchResponse,
    now: datetime,
) -> dict[str, str]:
    """Fetch and archive the article page of every item, where robots.txt allows; failures fall back to the feed."""
    # Parsed here only for the item links (parse is pure and cheap); the normalise stage parses it again.
    try:
        headers = {"content-type": feed.headers.get("content-type", ""), "content-location": feed.url}
        payload = parse_payload(feed.body, source, key, now, headers)
    except PermanentError:
        return {}  # the payload itself will be quarantined by the normalise stage
    links = list(dict.fromkeys(i.url for i in payload.items if i.url and i.url.startswith(("http://", "https://"))))

    async def one(link: str) -> tuple[str, str] | None:
        if not await robots.allowed(link, source.allow_private_network):
            return None
        try:
            page = await fetcher.get(link, allow_private=source.allow_private_network)
        except StorageError:
            raise
        except PipelineError:
            return None
        page_key = raw_key(source.id, now, _sha256(page.body), "html")
        content_type = page.headers.get("content-type", "text/html")
        await asyncio.to_thread(store.put_bytes, page_key, page.body, content_type, {"url": page.url, "item": link})
        return link, page_key

    return dict(pair for pair in await asyncio.gather(*(one(link) for link in links)) if pair)


async def _timed(work: Awaitable[StageResult]) -> StageResult:
    started = time.perf_counter()
    result = await work
    return result.model_copy(update={"durations": {"fetch": round(time.perf_counter() - started, 3)}})


async def _collect_one(
    fetcher: Fetcher,
    robots: RobotsRules,
    store: ObjectStore,
    registry: Registry,
    source: Source,
    existing_states: set[str],
    run_id: str,
    now: datetime,
    force: bool,
) -> StageResult:
    known = state_key(source.id) in existing_states
    state = await asyncio.to_thread(load_state, store, source.id) if known else SourceState(source=source.id)
    if not force and state.next_attempt_at is not None and state.next_attempt_at > now:
        return StageResult(source=source.id, run_id=run_id, not_due_until=state.next_attempt_at)
    try:
        if source.kind is SourceKind.DOCUMENTS:
            return await asyncio.to_thread(
                _collect_documents, store, registry, source, state, run_id, now, force, fetcher.policy.max_bytes
            )
        return await _collect_feed(fetcher, robots, store, source, state, run_id, now, force)
    except StorageError:
        raise  # the object store is down: fail the task so Airflow retries it
    except PipelineError as exc:  # this source alone failed; the others go on
        error: PipelineError = exc
    except OSError as exc:  # a documents folder that vanished, say
        error = PermanentError(f"{type(exc).__name__}: {exc}")
    failed = failed_state(state, error, now)
    await asyncio.to_thread(store.put_json, state_key(source.id), failed.model_dump(mode="json"))
    return StageResult(source=source.id, run_id=run_id, fetched_at=now, error=str(error))


async def _collect_all(
    store: ObjectStore, settings: Settings, registry: Registry, sources: list[Source], run_id: str, force: bool
) -> list[StageResult]:
    now = datetime.now(UTC).replace(microsecond=0)
    policy = fetch_policy(settings)
    # Object store calls run in threads; the default pool (cores + 4) would queue them behind each other.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(S3_THREADS))
    # One listing instead of a GET per source that has no state yet.
    existing = await asyncio.to_thread(lambda: set(store.list_keys(STATE_PREFIX)))
    async with Fetcher(policy) as fetcher:
        robots = RobotsRules(fetcher, policy.user_agent)
        return list(
            await asyncio.gather(
                *(
                    _timed(_collect_one(fetcher, robots, store, registry, s, existing, run_id, now, force))
                    for s in sources
                )
            )
        )


def collect_sources(
    store: ObjectStore, settings: Settings, registry: Registry, sources: list[Source], run_id: str, force: bool
) -> list[StageResult]:
    """Fetch every source of the batch at once (within the concurrency limits); one result per source."""
    return asyncio.run(_collect_all(store, settings, registry, sources, run_id, force))


@dataclass(frozen=True)
class SourceCheck:
    source: Source
    reachable: bool
    detail: str
    state: SourceState | None


def _recorded_state(store: ObjectStore | None, source: str) -> SourceState | None:
    if store is None:
        return None
    try:
        return load_state(store, source)
    except StorageError:
        return None  # health unknown while the store is unreachable; the probe still runs


def _count_documents(registry: Registry, source: Source, store: ObjectStore | None) -> int:
    return sum(1 for _ in read_documents(source, registry.base_dir, store, max_bytes=0))  # count, do not read


async def _probe(fetcher: Fetcher, registry: Registry, source: Source, store: ObjectStore | None) -> SourceCheck:
    state = await asyncio.to_thread(_recorded_state, store, source.id)
    try:
        if source.kind is SourceKind.DOCUMENTS:
            count = await asyncio.to_thread(_count_documents, registry, source, store)
            return SourceCheck(source, True, f"{count} document(s)", state)
        started = asyncio.get_running_loop().time()
        response = await fetcher.get(str(source.url), allow_private=source.allow_private_network)
        elapsed = asyncio.get_running_loop().time() - started
        return SourceCheck(source, True, f"HTTP {response.status}, {len(response.body)} bytes, {elapsed:.2f}s", state)
    except (PipelineError, OSError) as exc:
        return SourceCheck(source, False, str(exc), state)


def check_sources(settings: Settings, registry: Registry, store: ObjectStore | None) -> list[SourceCheck]:
    """Probe every source once (no archiving, no state change) and pair it with its recorded health."""

    async def probe_all() -> list[SourceCheck]:
        async with Fetcher(fetch_policy(settings)) as fetcher:
            return list(await asyncio.gather(*(_probe(fetcher, registry, s, store) for s in registry.sources)))

    return asyncio.run(probe_all())
