"""The fetch stage: plan shards, fetch a shard's sources concurrently and archive what is new under raw/."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from pipeline.errors import PermanentError, PipelineError, StorageError, TransientError, describe
from pipeline.fetch import FetchDeferred, Fetcher, FetchPolicy, FetchResponse, HttpStatusError, RobotsRules
from pipeline.models import Fetched, PendingPage, Source, SourceHealth, SourceKind, SourceState
from pipeline.settings import Settings
from pipeline.sources import Registry, load_sources, read_documents, websub
from pipeline.sources.state import StateCache, failed_state, load_state, save_state
from pipeline.stages.handover import (
    archive_content_type,
    archive_metadata,
    quarantine,
    sha256_hex,
    utc_now,
)
from pipeline.storage.keys import PAGE_EXTENSION, STATE_PREFIX, inbox_processed_key, raw_key, state_key
from pipeline.storage.store import ObjectStore

__all__ = ["fetch_sources", "plan_shards"]

log = logging.getLogger(__name__)

S3_THREADS = 32  # object store calls in flight while fetching (archiving payloads, reading states)
EXTENSIONS = {
    SourceKind.FEED: "xml",
    SourceKind.JSONFEED: "json",
    SourceKind.DOCUMENTS: "txt",
    SourceKind.SITEMAP: "xml",
}


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
    store: ObjectStore,
    settings: Settings,
    source_ids: list[str],
    run_id: str,
    force: bool = False,
    since: date | None = None,
) -> list[Fetched]:
    """Fetch every source of the batch at once (within the concurrency limits); one result per source.

    With `since`, each feed is fetched in full and its older pages (RFC 5005 archives, paged feeds) are
    followed back to that day.
    """
    registry = load_sources(settings)
    sources = [registry.get(i) for i in source_ids]
    return asyncio.run(_fetch_all(store, settings, registry, sources, run_id, force or since is not None, since))


async def _fetch_all(
    store: ObjectStore,
    settings: Settings,
    registry: Registry,
    sources: list[Source],
    run_id: str,
    force: bool,
    since: date | None = None,
) -> list[Fetched]:
    now = utc_now()
    policy = FetchPolicy.from_settings(settings)
    # Object store calls run in threads; the default pool (cores + 4) would queue them behind each other.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(S3_THREADS))
    # One listing instead of a GET per source that has no state yet, and per unchanged state kept on disk.
    listed = await asyncio.to_thread(lambda: dict(store.list_etags(STATE_PREFIX)))
    cache = StateCache.from_settings(settings)
    states = await asyncio.gather(*(_state(store, s.id, listed.get(state_key(s.id)), cache) for s in sources))
    await asyncio.to_thread(cache.keep_only, set(listed.values()))
    # The least recently fetched first: what a spent budget deferred last time gets the first turns now.
    subscriptions: dict[str, websub.Subscription] = {}
    pushes: dict[str, list[str]] = {}
    if settings.websub_callback_url:  # one listing each, not a request per source
        subscriptions = await asyncio.to_thread(websub.load_subscriptions, store)
        pushes = await asyncio.to_thread(websub.pending_pushes, store, settings.websub_push_prefix)
    order = sorted(range(len(sources)), key=lambda n: (states[n].last_success_at or _NEVER, sources[n].id))
    deadline = time.monotonic() + settings.fetch_budget
    async with Fetcher(policy, deadline=deadline) as fetcher:
        robots = RobotsRules(fetcher, policy.user_agent)
        run = _SourceFetch(fetcher, robots, store, settings, registry, run_id, now, since)
        run.subscriptions, run.pushes = subscriptions, pushes
        fetched = await asyncio.gather(*(_timed(run.one(sources[n], states[n], force)) for n in order))
    by_source = {result.source: result for result in fetched}
    return [by_source[s.id] for s in sources]


_NEVER = datetime.min.replace(tzinfo=UTC)


async def _state(store: ObjectStore, source_id: str, etag: str | None, cache: StateCache) -> SourceState:
    """The source's state: none yet when the listing has no `etag` for it; read from disk when `cache` has it."""
    if etag is None:
        return SourceState(source=source_id)
    cached = cache.get(etag)
    if cached is not None:
        return SourceState.model_validate_json(cached)
    return await asyncio.to_thread(load_state, store, source_id, cache)


async def _timed(work: Awaitable[Fetched]) -> Fetched:
    started = time.perf_counter()
    result = await work
    return result.model_copy(update={"durations": {"fetch": round(time.perf_counter() - started, 3)}})


class _SourceFetch:
    """What fetching one source of the batch needs: the shared client, robots rules, store and clock."""

    def __init__(
        self,
        fetcher: Fetcher,
        robots: RobotsRules,
        store: ObjectStore,
        settings: Settings,
        registry: Registry,
        run_id: str,
        now: datetime,
        since: date | None = None,
    ) -> None:
        self.fetcher, self.robots, self.store, self.settings = fetcher, robots, store, settings
        self.registry, self.run_id, self.now = registry, run_id, now
        self.since = since  # a backfill: walk each feed's history back to this day
        self.subscriptions: dict[str, websub.Subscription] = {}  # WebSub, by source
        self.pushes: dict[str, list[str]] = {}  # claimed pushes not yet stored, by source

    async def one(self, source: Source, state: SourceState, force: bool) -> Fetched:
        if source.id in self.pushes and source.kind in (SourceKind.FEED, SourceKind.JSONFEED):
            return await self._pushed(source, self.pushes[source.id])  # the hub's content, as if fetched
        subscription = self.subscriptions.get(source.id)
        if not force and websub.polled_by_push(subscription, state.last_success_at, self.now, self.settings):
            assert state.last_success_at is not None
            return Fetched(
                source=source.id,
                run_id=self.run_id,
                not_due_until=state.last_success_at + timedelta(seconds=self.settings.websub_poll_interval),
                not_due_reason="its WebSub hub pushes new items; polled as a fallback",
            )
        if not force and state.next_attempt_at is not None and state.next_attempt_at > self.now:
            failing = state.health is not SourceHealth.HEALTHY
            return Fetched(
                source=source.id,
                run_id=self.run_id,
                not_due_until=state.next_attempt_at,
                not_due_reason=state.last_error if failing else "its poll schedule (feed hints, publishing rate)",
                backing_off=failing,
            )
        try:
            if source.kind is SourceKind.DOCUMENTS:
                return await asyncio.to_thread(self._documents, source, state, force)
            if source.kind is SourceKind.SITEMAP:
                return await self._sitemap(source, state, force)
            return await self._feed(source, state, force)
        except StorageError:
            raise  # the object store is down: fail the task so Airflow retries it
        except FetchDeferred:  # not a failure: health untouched, first in line next run
            return Fetched(source=source.id, run_id=self.run_id, deferred=True)
        except PipelineError as exc:  # this source alone failed; the others go on
            error: PipelineError = exc
        except Exception as exc:  # a documents folder that vanished, a header no one expected: the same
            error = PermanentError(describe(exc))
        failed = failed_state(state, error, self.now, self.settings)
        await asyncio.to_thread(save_state, self.store, failed, StateCache.from_settings(self.settings))
        return Fetched(source=source.id, run_id=self.run_id, fetched_at=self.now, error=str(error))

    def _documents(self, source: Source, state: SourceState, force: bool) -> Fetched:
        max_bytes = self.fetcher.policy.max_bytes
        raw_keys: list[str] = []
        consumed: dict[str, str] = {}
        seen = dict(state.documents)
        read = quarantined = not_modified = 0
        for doc in read_documents(source, self.registry.base_dir, self.store, max_bytes):
            # An oversized document is never read: name and size stand in for its content.
            digest = sha256_hex(f"{doc.name}\n{doc.size}".encode() if doc.too_large(max_bytes) else doc.data)
            if source.consume and doc.key:
                destination = inbox_processed_key(doc.key, doc.name)
                if destination is None:
                    continue  # not the inbox's own: processed/, or another folder
                consumed[doc.key] = destination  # moved away once stored, so nothing to remember
            elif not force and state.documents.get(doc.name) == digest:
                not_modified += 1  # unchanged since it was last stored: like a 304, nothing to redo
                continue
            else:
                seen[doc.name] = digest
            key = raw_key(source.id, self.now, digest, EXTENSIONS[source.kind])
            if doc.too_large(max_bytes):
                reason = f"document {doc.name!r} has {doc.size} bytes, more than the {max_bytes} allowed"
                quarantine(self.store, source.id, key, digest, reason, self.now)
                read += 1
                quarantined += 1
                continue
            self.store.put_if_changed(key, doc.data, "text/plain; charset=utf-8")
            raw_keys.append(key)
        healthy = state.model_copy(
            update={
                "documents": seen,
                "last_success_at": self.now,
                "health": SourceHealth.HEALTHY,
                "consecutive_failures": 0,
                "failure_weight": 0.0,
            }
        )
        return Fetched(
            source=source.id,
            run_id=self.run_id,
            fetched_at=self.now,
            raw_keys=raw_keys,
            consumed=consumed,
            not_modified=not_modified,
            read=read,
            quarantined=quarantined,
            state=healthy,
        )

    async def _feed(self, source: Source, state: SourceState, force: bool) -> Fetched:
        response = await self.fetcher.get(
            str(source.url),
            etag=None if force else state.etag,
            last_modified=None if force else state.last_modified,
            allow_private=source.allow_private_network,
        )
        digest = sha256_hex(response.body) if not response.not_modified else state.content_sha256
        unchanged = response.not_modified or (not force and digest == state.content_sha256)
        healthy = state.model_copy(
            update={
                "etag": response.headers.get("etag") or (state.etag if response.not_modified else None),
                "last_modified": response.headers.get("last-modified")
                or (state.last_modified if response.not_modified else None),
                "content_sha256": digest,
                "health": SourceHealth.HEALTHY,
                "consecutive_failures": 0,
                "failure_weight": 0.0,
                "last_error": None,
                "last_status": response.status,
                "next_attempt_at": self.now + timedelta(seconds=response.max_age) if response.max_age else None,
                "last_success_at": self.now,
            }
        )
        result = Fetched(source=source.id, run_id=self.run_id, fetched_at=self.now, state=healthy)
        if self.settings.websub_callback_url:
            await self._subscribe(source, response)
        if unchanged:
            if self.settings.poll_max_interval:  # nothing new: the next poll as before, or as max-age says
                interval = max(response.max_age or 0, state.poll_interval or 0, self.settings.poll_min_interval)
                interval = min(interval, self.settings.poll_max_interval)
                healthy = healthy.model_copy(update={"next_attempt_at": self.now + timedelta(seconds=interval)})
                result = result.model_copy(update={"state": healthy})
            if source.fetch_fulltext and state.pending_pages:  # the feed is the same; its missing pages are not
                return await self._repair(source, result.model_copy(update={"not_modified": 1}), healthy)
            return result.model_copy(update={"not_modified": 1})
        key = await self._archive(source, response.body, response.url, response.headers.get("content-type"), digest)
        if self.since is not None:
            older = [k for k in await self._history(source, response) if k != key]  # a page may repeat the feed
            result = result.model_copy(update={"raw_keys": [key, *older]})
        if not source.fetch_fulltext:
            return result.model_copy(update={"raw_keys": result.raw_keys or [key]})
        links = self._links(source, key, response)
        pages, missing = await self._pages(source, links)
        # Pending pages of items this payload no longer carries stay pending, on their own payload.
        pending = {link: page for link, page in state.pending_pages.items() if link not in links}
        pending |= {link: PendingPage(raw_key=key, attempts=1) for link in missing}
        return result.model_copy(
            update={
                "raw_keys": result.raw_keys or [key],
                "pages": pages,
                "pages_missing": len(missing),
                "state": healthy.model_copy(update={"pending_pages": pending}),
            }
        )

    async def _archive(
        self, source: Source, body: bytes, url: str, content_type: str | None, digest: str | None = None
    ) -> str:
        """Put one payload of the source under raw/ exactly as received, with the URL it came from (relative
        links need it as their base); its key."""
        key = raw_key(source.id, self.now, digest or sha256_hex(body), EXTENSIONS[source.kind])
        archived_type = archive_content_type(content_type, "application/octet-stream")
        await asyncio.to_thread(self.store.put_bytes, key, body, archived_type, archive_metadata(url=url) or {})
        return key

    async def _pushed(self, source: Source, keys: list[str]) -> Fetched:
        """Archive the source's claimed pushes under raw/ like fetched payloads; they leave the push inbox once
        their articles are stored. No state: the next poll stays when it was."""
        raw_keys, consumed = [], {}
        for key in keys:
            pushed = await asyncio.to_thread(self.store.get_object, key)
            url = pushed.metadata.get("url") or str(source.url)
            raw_keys.append(await self._archive(source, pushed.data, url, pushed.content_type))
            consumed[key] = websub.processed_push_key(self.settings.websub_push_prefix, key)
        return Fetched(
            source=source.id,
            run_id=self.run_id,
            fetched_at=self.now,
            raw_keys=list(dict.fromkeys(raw_keys)),
            consumed=consumed,
        )

    async def _subscribe(self, source: Source, response: FetchResponse) -> None:
        """Subscribe at the hub the feed names, or renew the lease before it ends; a hub's failure is logged and
        never fails the source (polling goes on)."""
        previous = self.subscriptions.get(source.id)
        found = websub.discover_hub(response.body, response.headers, response.url) if response.body else None
        if found is None and previous is not None and response.not_modified:
            found = previous.hub, previous.topic  # unchanged feed: the hub it named before
        if found is None or not websub.subscription_due(previous, *found, self.now, self.settings):
            return
        hub, topic = found
        try:
            await websub.request_subscription(
                self.store, self.settings, source.id, hub, topic, previous, self.now, source.allow_private_network
            )
        except StorageError:
            raise
        except Exception as exc:  # whatever the hub does, the feed itself was fetched
            log.warning("source %s: WebSub subscription at %s failed: %s", source.id, hub, describe(exc))
        else:
            log.info("source %s: asked %s for a WebSub subscription to %s", source.id, hub, topic)

    async def _history(self, source: Source, first: FetchResponse) -> list[str]:
        """Archive the feed's older pages back to `since`: their raw keys, oldest last."""
        from pipeline.sources.history import walk_history

        assert self.since is not None
        keys = []
        for page in await walk_history(self.fetcher, source, first, self.since):
            keys.append(await self._archive(source, page.body, page.url, page.headers.get("content-type")))
        return list(dict.fromkeys(keys))

    async def _sitemap(self, source: Source, state: SourceState, force: bool) -> Fetched:
        """Archive each news sitemap the source leads to, then fetch the pages of its recent articles."""
        from pipeline.sitemaps import fetch_news_sitemaps

        found = await fetch_news_sitemaps(self.fetcher, self.robots, source)
        digest = sha256_hex("\n".join(f"{url} {sha256_hex(body)}" for url, body in found).encode())
        healthy = state.model_copy(
            update={
                "content_sha256": digest,
                "health": SourceHealth.HEALTHY,
                "consecutive_failures": 0,
                "failure_weight": 0.0,
                "last_error": None,
                "next_attempt_at": None,
                "last_success_at": self.now,
            }
        )
        result = Fetched(source=source.id, run_id=self.run_id, fetched_at=self.now, state=healthy)
        if not force and digest == state.content_sha256:
            if state.pending_pages:
                return await self._repair(source, result.model_copy(update={"not_modified": 1}), healthy)
            return result.model_copy(update={"not_modified": 1})
        keys: list[str] = []
        links: dict[str, str] = {}  # article link -> the sitemap listing it
        for url, body in found:
            key = await self._archive(source, body, url, "application/xml")
            keys.append(key)
            response = FetchResponse(url, 200, {"content-type": "application/xml"}, body)
            links |= {link: key for link in self._links(source, key, response) if link not in links}
        pages, missing = await self._pages(source, list(links))
        pending = {link: page for link, page in state.pending_pages.items() if link not in links}
        pending |= {link: PendingPage(raw_key=links[link], attempts=1) for link in missing}
        return result.model_copy(
            update={
                "raw_keys": keys,
                "pages": pages,
                "pages_missing": len(missing),
                "state": healthy.model_copy(update={"pending_pages": pending}),
            }
        )

    async def _repair(self, source: Source, result: Fetched, healthy: SourceState) -> Fetched:
        """Fetch the pages earlier runs could not, so their articles get the page's text as a new revision."""
        pending = healthy.pending_pages
        payloads = sorted({page.raw_key for page in pending.values()})
        etags = await asyncio.gather(*(asyncio.to_thread(self.store.etag, key) for key in payloads))
        present = {key for key, etag in zip(payloads, etags, strict=True) if etag}  # retention may have removed some
        pages, missing = await self._pages(source, [link for link, page in pending.items() if page.raw_key in present])
        still = {
            link: page.model_copy(update={"attempts": page.attempts + 1})
            for link, page in pending.items()
            if link in missing and page.attempts + 1 < self.settings.fulltext_attempts
        }
        state = healthy.model_copy(update={"pending_pages": still})
        if not pages:
            return result.model_copy(update={"state": state, "pages_missing": len(still)})
        return result.model_copy(
            update={
                "raw_keys": sorted({pending[link].raw_key for link in pages}),
                "pages": pages,
                "only_items": sorted(pages),
                "pages_missing": len(still),
                "state": state,
            }
        )

    def _links(self, source: Source, key: str, feed: FetchResponse) -> list[str]:
        """The item links of a payload, within the source's item cap; parse is pure and cheap, so the normalise
        stage parses it again."""
        from pipeline.parse import parse_payload  # feedparser: only for sources that fetch full text

        capped = source.model_copy(update={"max_items": source.max_items or self.settings.max_items_per_feed})
        try:
            headers = {"content-type": feed.headers.get("content-type", ""), "content-location": feed.url}
            payload = parse_payload(feed.body, capped, key, self.now, headers)
        except Exception:
            return []  # the payload itself will be quarantined by the normalise stage
        links = (i.url for i in payload.items if i.url and i.url.startswith(("http://", "https://")))
        return list(dict.fromkeys(links))

    async def _pages(self, source: Source, links: list[str]) -> tuple[dict[str, str], set[str]]:
        """Fetch and archive the article page of each link where robots.txt allows, within the source's page
        budget: link -> raw key of its page, and the links worth trying again in a later run."""
        deadline = asyncio.get_running_loop().time() + self.settings.fulltext_budget
        missing: set[str] = set()

        async def one(link: str) -> tuple[str, str] | None:
            try:
                async with asyncio.timeout_at(deadline):
                    if not await self.robots.allowed(link, source.allow_private_network):
                        return None
                    page = await self.fetcher.get(link, allow_private=source.allow_private_network)
            except StorageError:
                raise
            except Exception as exc:  # this page alone: its article keeps the feed's text, for now or for good
                if _worth_retrying(exc):
                    missing.add(link)
                return None
            metadata = archive_metadata(url=page.url, item=link)
            if metadata is None:  # links too long to archive with the page: the article keeps the feed's text
                return None
            page_key = raw_key(source.id, self.now, sha256_hex(page.body), PAGE_EXTENSION)
            content_type = archive_content_type(page.headers.get("content-type"), "text/html")
            await asyncio.to_thread(self.store.put_bytes, page_key, page.body, content_type, metadata)
            return link, page_key

        fetched = dict(pair for pair in await asyncio.gather(*(one(link) for link in links)) if pair)
        return fetched, missing


def _worth_retrying(exc: Exception) -> bool:
    """A page that failed for the moment (budget, timeout, busy server), not for good (404, refused, too large)."""
    if isinstance(exc, FetchDeferred | TimeoutError):
        return True
    if isinstance(exc, HttpStatusError):
        return exc.status >= 500 or exc.status in (408, 425, 429)
    return isinstance(exc, TransientError)
