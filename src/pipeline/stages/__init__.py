"""What DAG tasks and the `news` command call: keys and counts in, keys and counts out.

Every ingest stage takes a batch of sources (one shard of a mapped task) and returns one result per source:
fetch -> `Fetched`, normalise -> `Normalised`, enrich -> `Enriched`, store -> `Stored`, then the run report.

Each name loads its own module on first use, so `news ingest` never imports what only the digest needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.stages.digest import compact_lake, digest_dates, publish_daily_digest
    from pipeline.stages.enrich import enrich_sources
    from pipeline.stages.fetch import fetch_sources, plan_shards
    from pipeline.stages.maintenance import apply_retention, reenrich, replay
    from pipeline.stages.normalise import normalise_sources
    from pipeline.stages.report import ingest, write_run_report
    from pipeline.stages.store import store_sources

__all__ = [
    "apply_retention",
    "compact_lake",
    "digest_dates",
    "enrich_sources",
    "fetch_sources",
    "ingest",
    "normalise_sources",
    "plan_shards",
    "publish_daily_digest",
    "reenrich",
    "replay",
    "store_sources",
    "write_run_report",
]

_MODULE_OF = {
    "apply_retention": "maintenance",
    "compact_lake": "digest",
    "digest_dates": "digest",
    "enrich_sources": "enrich",
    "fetch_sources": "fetch",
    "ingest": "report",
    "normalise_sources": "normalise",
    "plan_shards": "fetch",
    "publish_daily_digest": "digest",
    "reenrich": "maintenance",
    "replay": "maintenance",
    "store_sources": "store",
    "write_run_report": "report",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
