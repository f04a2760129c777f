"""
### news_ingest

Fetch every enabled source, normalise and enrich its items, and store them as articles in the bucket
(`articles/date=YYYY-MM-DD/{id}.json`). Each stage is its own task, mapped over sources; tasks hand each
other S3 keys and counts, never article bodies. The store task emits `news_articles` with the dates it
touched, which triggers `news_digest`. A run report lands under `runs/news_ingest/`.

Trigger form: `sources` limits the run to some source ids; `force_refetch` reprocesses unchanged input.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, task
from news_airflow import DEFAULT_ARGS, NEWS_ARTICLES, object_store

from pipeline import stages
from pipeline.models import StageResult
from pipeline.settings import get_settings


@dag(
    dag_id="news_ingest",
    schedule="@hourly",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["news", "ingest"],
    doc_md=__doc__,
    params={
        "sources": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Source ids to ingest (empty: all enabled).",
        ),
        "force_refetch": Param(False, type="boolean", description="Reprocess input even when unchanged."),
    },
)
def news_ingest() -> None:
    @task
    def plan_sources(params: dict[str, Any]) -> list[str]:
        """List the source ids this run ingests."""
        return stages.plan_sources(get_settings(), params["sources"] or None)

    @task(map_index_template="{{ task.op_kwargs['source_id'] }}")
    def fetch_source(source_id: str, run_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Archive the source's new payloads under raw/."""
        result = stages.fetch_source(object_store(), get_settings(), source_id, run_id, params["force_refetch"])
        return result.model_dump(mode="json")

    @task
    def normalise_source(fetched: dict[str, Any]) -> dict[str, Any]:
        """Parse and normalise the payloads; quarantine what fails."""
        result = stages.normalise_source(object_store(), get_settings(), StageResult.model_validate(fetched))
        return result.model_dump(mode="json")

    @task
    def enrich_source(normalised: dict[str, Any]) -> dict[str, Any]:
        """Add language, summary and story to the staged articles."""
        result = stages.enrich_source(object_store(), get_settings(), StageResult.model_validate(normalised))
        return result.model_dump(mode="json")

    @task(outlets=[NEWS_ARTICLES])
    def store_source(enriched: dict[str, Any], outlet_events: Any) -> dict[str, Any]:
        """Store the articles and announce the dates they belong to."""
        result = stages.store_source(object_store(), get_settings(), StageResult.model_validate(enriched))
        outlet_events[NEWS_ARTICLES].extra = {"dates": [d.isoformat() for d in result.dates]}
        return result.model_dump(mode="json")

    @task(trigger_rule="all_done")
    def write_run_report(planned: list[str], stored: list[dict[str, Any] | None], run_id: str) -> dict[str, Any]:
        """Write the run report; fail the run only when every source failed."""
        results = [StageResult.model_validate(r) for r in stored if r]
        key, report = stages.write_run_report(object_store(), "news_ingest", run_id, planned, results)
        if planned and len(report.failed_sources) == len(planned):
            raise RuntimeError(f"every source failed: {', '.join(report.failed_sources)} (report {key})")
        return {
            "report_key": key,
            "read": report.read,
            "stored": report.stored,
            "failed": report.failed_sources,
        }

    planned = plan_sources()
    fetched = fetch_source.expand(source_id=planned)
    stored = store_source.expand(enriched=enrich_source.expand(normalised=normalise_source.expand(fetched=fetched)))
    write_run_report(planned, stored)


news_ingest()
