"""The run report (runs/{dag_id}/{run_id}.json), and `ingest`: every stage of a run in this process, reported."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pipeline.models import RunReport, SourceReport, Stored
from pipeline.settings import Settings
from pipeline.stages.enrich import enrich_sources
from pipeline.stages.fetch import fetch_sources, plan_shards
from pipeline.stages.handover import utc_now
from pipeline.stages.normalise import normalise_sources
from pipeline.stages.store import store_sources
from pipeline.storage.keys import run_key
from pipeline.storage.store import ObjectStore

__all__ = ["ingest", "write_run_report"]


def _source_report(store: ObjectStore, result: Stored) -> SourceReport:
    """One source's line, with the article keys its store stage left in the bucket."""
    keys: list[str] = []
    if result.stored_keys_key:
        keys = json.loads(store.get_bytes(result.stored_keys_key))
        store.delete(result.stored_keys_key)
    line = result.model_dump(include=set(SourceReport.model_fields) - {"article_keys"})
    return SourceReport(**line, article_keys=keys)


def write_run_report(
    store: ObjectStore,
    dag_id: str,
    run_id: str,
    planned: list[str],
    results: list[Stored],
    started_at: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[str, RunReport]:
    """Write runs/{dag_id}/{run_id}.json; planned sources with an error or no result are listed as failed."""
    sources = sorted((_source_report(store, r) for r in results), key=lambda r: r.source)
    done = {r.source for r in sources if r.error is None}
    finished = utc_now()
    report = RunReport(
        dag_id=dag_id,
        run_id=run_id,
        started_at=started_at,
        finished_at=finished,
        duration_s=round((finished - started_at).total_seconds(), 1) if started_at else None,
        params=params or {},
        sources=sources,
        not_modified=sum(r.not_modified for r in sources),
        read=sum(r.read for r in sources),
        stored=sum(r.stored for r in sources),
        duplicates=sum(r.duplicates for r in sources),
        quarantined=sum(r.quarantined for r in sources),
        filtered=sum(r.filtered for r in sources),
        failed_sources=sorted(set(planned) - done),
        deferred_sources=sorted(r.source for r in sources if r.deferred),
        dates=sorted({d for r in sources for d in r.dates}),
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
    since: date | None = None,
) -> tuple[str, RunReport]:
    """Run fetch -> normalise -> enrich -> store over every source in this process (no Airflow); with `since`,
    feeds' older pages back to that day too."""
    started = utc_now()
    planned = [source_id for shard in plan_shards(settings, only) for source_id in shard]
    fetched = fetch_sources(store, settings, planned, run_id, force, since)
    enriched = enrich_sources(store, settings, normalise_sources(store, settings, fetched))
    stored = store_sources(store, settings, enriched, dry_run)
    params: dict[str, Any] = {"sources": only or [], "force_refetch": force, "dry_run": dry_run}
    if since is not None:
        params["since"] = since.isoformat()
    return write_run_report(store, "cli", run_id, planned, stored, started, params)
