"""`news sources check`: probe every source once and pair it with its recorded health; nothing is archived."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pipeline.errors import PipelineError, StorageError
from pipeline.fetch import Fetcher, FetchPolicy
from pipeline.models import Source, SourceKind, SourceState
from pipeline.settings import Settings
from pipeline.sources.documents import read_documents
from pipeline.sources.registry import Registry
from pipeline.sources.state import load_state
from pipeline.storage.store import ObjectStore

__all__ = ["SourceCheck", "check_sources"]


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
        async with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
            return list(await asyncio.gather(*(_probe(fetcher, registry, s, store) for s in registry.sources)))

    return asyncio.run(probe_all())
