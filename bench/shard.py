"""One shard of the fetch benchmarks in a worker process, as a mapped `ingest_shard` runs it up to parsing,
and the sources files the benchmarks write."""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import stages
from pipeline.parse import parse_feed
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore

start_time = datetime.now(UTC)


def ingest_shard(args: tuple[Settings, list[str], str]) -> dict[str, Any]:
    """What one mapped `ingest_shard` does up to parsing: the fetch stage, then the normalise stage's read and
    parse of each payload (`parse_feed`: feedparser on the bytes)."""
    settings, source_ids, run_id = args
    store = ObjectStore.from_settings(settings)
    start = time.perf_counter()
    results = stages.fetch_sources(store, settings, source_ids, run_id)
    fetched = time.perf_counter() - start
    registry = load_sources(settings)
    items = 0
    keys = [(result.source, key) for result in results for key in result.raw_keys]
    # Read ahead as the normalise stage does: S3 waits overlap with parsing.
    for (source_id, key), raw in zip(keys, store.read_ahead(k for _, k in keys), strict=True):
        source = registry.get(source_id)
        items += len(parse_feed(raw.data, source, key, start_time, {"content-type": raw.content_type}).items)
    errors = [r.error for r in results if r.error]
    states = [r.state.model_dump(mode="json") for r in results if r.state]
    parsed = time.perf_counter() - start - fetched
    return {
        "fetch_s": fetched,
        "parse_s": parsed,
        "items": items,
        "errors": errors,
        "failed": [r.source for r in results if r.error],
        "deferred": sum(1 for r in results if r.deferred),
        "states": states,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def commit_states(args: tuple[Settings, list[dict[str, Any]]]) -> None:
    """What the store stage does last (untimed here): keep ETags so the re-run sends conditional GETs."""
    settings, states = args
    store = ObjectStore.from_settings(settings)
    for state in states:
        store.put_json(state_key(state["source"]), state)


def write_registry(path: Path, urls: list[str]) -> Path:
    path.write_text(
        "".join(
            f'[[sources]]\nid = "feed-{n}"\nkind = "feed"\nurl = "{url}"\nallow_private_network = true\n'
            for n, url in enumerate(urls)
        )
    )
    return path
