"""The normalise stage: parse each archived payload, normalise its items into articles, quarantine what fails."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from pipeline.errors import describe
from pipeline.fulltext import PageExtractor
from pipeline.models import Article, Fetched, Normalised, RawItem, Source, SourceKind
from pipeline.rules import RuleSet
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.sources.state import scheduled
from pipeline.stages.handover import (
    advance,
    archived_value,
    for_each_source,
    quarantine,
    sha256_hex,
    write_jsonl,
)
from pipeline.storage.keys import fetched_at_of, staging_key
from pipeline.storage.store import ObjectStore, StoredObject

__all__ = ["normalise_source", "normalise_sources"]


def normalise_sources(store: ObjectStore, settings: Settings, fetched: list[Fetched]) -> list[Normalised]:
    registry = load_sources(settings)

    def capped(source_id: str) -> Source:
        source = registry.get(source_id)
        return source.model_copy(update={"max_items": source.max_items or settings.max_items_per_feed})

    # One read-ahead over the whole batch: the next sources' payloads arrive while this one is parsed.
    payloads = store.read_ahead(key for r in fetched if r.going for key in r.raw_keys)
    with PageExtractor(settings.fulltext_time_limit) as pages:  # its process starts with the first page, if any
        return for_each_source(
            fetched,
            "normalise",
            lambda r: normalise_source(
                store, settings, capped(r.source), r, pages, payloads, registry.rules_for(r.source)
            ),
            Normalised,
        )


def normalise_source(
    store: ObjectStore,
    settings: Settings,
    source: Source,
    fetched: Fetched,
    pages: PageExtractor,
    payloads: Iterator[StoredObject] | None = None,
    rules: RuleSet | None = None,
) -> Normalised:
    """Parse and normalise every archived payload of one source; quarantine what fails, stage the rest; and
    schedule the source's next poll from what its feed says and how often it publishes.

    `payloads` yields the objects of `fetched.raw_keys` in order (read ahead by the caller); by default
    they are read here. An item that `rules` drop on its own fields is counted as filtered, not staged (those
    needing language or entities are judged after enrichment).
    """
    if not fetched.raw_keys:  # unchanged (304) or nothing new: no staging objects for the next stages
        return advance(fetched, Normalised)
    # feedparser, ftfy, lxml and w3lib load in a fifth of a second: only when there is something to parse.
    from pipeline.normalise import normalise_item
    from pipeline.parse import ParsedPayload, parse_payload

    articles: list[Article] = []
    read, quarantined, filtered = fetched.read, fetched.quarantined, fetched.filtered
    state = fetched.state
    objects = store.read_ahead(fetched.raw_keys) if payloads is None else payloads
    for key, raw in zip(fetched.raw_keys, itertools.islice(objects, len(fetched.raw_keys)), strict=True):
        fetched_at = fetched_at_of(key)  # from the key, so a replay reads the payload exactly as it was
        digest = sha256_hex(raw.data)
        headers = {"content-type": raw.content_type} | (
            {"content-location": url} if (url := archived_value(raw.metadata, "url")) else {}
        )
        try:
            payload = parse_payload(raw.data, source, key, fetched_at, headers)
        except Exception as exc:  # the payload as a whole is unreadable: one item, quarantined
            quarantine(store, source.id, key, digest, describe(exc), fetched_at)
            read, quarantined = read + 1, quarantined + 1
            continue
        # The poll interval from the feed as it is now: not from its archived pages, nor a page-repair run.
        first = key == fetched.raw_keys[0]
        if state is not None and source.kind is not SourceKind.DOCUMENTS and not fetched.only_items and first:
            published = [i.published_at for i in payload.items if i.published_at is not None]
            state = scheduled(state, fetched_at, settings, payload.poll_hint, published)
        if fetched.only_items:  # a repair run: just the items whose pages came late; the rest is stored already
            wanted = set(fetched.only_items)
            payload = ParsedPayload(items=[item for item in payload.items if item.url in wanted])
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
                item = _with_page_text(store, item, fetched.pages[item.url], pages)
            try:
                article = normalise_item(item)
            except Exception as exc:  # this item alone: its quarantine record says why
                quarantine(store, source.id, key, digest, describe(exc), fetched_at, item.index)
                quarantined += 1
                continue
            if rules and rules.screen(article):  # dropped before the cost of enrichment; its payload stays
                filtered += 1
            else:
                articles.append(article)
    staged = staging_key(fetched.run_id, "normalised", source.id)
    write_jsonl(store, staged, articles)
    return advance(
        fetched, Normalised, normalised_key=staged, read=read, quarantined=quarantined, filtered=filtered, state=state
    )


def _with_page_text(store: ObjectStore, item: RawItem, page_key: str, pages: PageExtractor) -> RawItem:
    """The item with its article page's text and metadata; the feed's text stays when extraction finds none."""
    from pipeline.normalise import with_page

    page = store.get_object(page_key)
    text = pages.extract(page.data, archived_value(page.metadata, "url") or item.url or "")
    if isinstance(text, str):  # too slow, or unreadable: the feed's own text stays
        return item
    return with_page(item, text)
