"""What DAG tasks and the `news` command call: keys and counts in, keys and counts out.

Every ingest stage takes a batch of sources (one shard of a mapped task) and returns one result per source:
fetch -> `Fetched`, normalise -> `Normalised`, enrich -> `Enriched`, store -> `Stored`, then the run report.
"""

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
