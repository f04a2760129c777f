"""
### news_ingest

Fetch every enabled source, normalise and enrich its items, and store them as articles in the bucket
(`articles/date=YYYY-MM-DD/{id}.json`). Sources are split into shards (one per source when there are few,
a host's sources always together); each shard goes through fetch → normalise → enrich → store as its own
mapped task group, so shards move on independently. Tasks hand each other S3 keys and counts, never
article bodies. Once every shard is done, `announce_dates` emits one `news_articles` event per day the run
stored articles for (partition key `YYYY-MM-DD`), and `news_digest` rebuilds each of those days in a run of
its own. A run report lands under `runs/news_ingest/`.

Runs hourly, and whenever a document is put under `inbox/` in the bucket (the `news_inbox` asset, watched by
the triggerer), then ingesting just the inbox; and whenever a feed's WebSub hub pushes new content (the
`news_pushes` asset), then ingesting just the sources pushed.

Trigger form: `sources` limits the run to some source ids; `force_refetch` reprocesses unchanged input;
`dry_run` goes through every stage but stores nothing; `since` (a date) is a backfill: each feed's archive or
older pages (RFC 5005 `prev-archive`, paged `next`) are followed back to that day.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task, task_group
from news_airflow import DEFAULT_ARGS, FETCH_POOL, INGEST_CRON, NEWS_ARTICLES, NEWS_INBOX, NEWS_PUSHES, object_store

from pipeline.models import SLUG, Enriched, Fetched, Normalised, SourceProgress, Stored
from pipeline.settings import get_settings
from pipeline.sources.inbox import INBOX_ID

R = TypeVar("R", bound=SourceProgress)

# Tasks import pipeline.stages when they run: it loads libraries (lingua, trafilatura, pyarrow, boto3)
# that would make every parse of this file slow.


@dag(
    dag_id="news_ingest",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(INGEST_CRON, timezone="UTC"), assets=NEWS_INBOX | NEWS_PUSHES
    ),
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
            items={"type": "string", "pattern": SLUG.pattern},
            uniqueItems=True,
            description="Source ids from sources.toml to ingest (empty: all enabled). Unknown ids fail the run.",
        ),
        "force_refetch": Param(False, type="boolean", description="Reprocess input even when unchanged."),
        "dry_run": Param(False, type="boolean", description="Fetch and process, but store no article."),
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Backfill: also follow each feed's archive or older pages (RFC 5005) back to this day.",
        ),
    },
)
def news_ingest() -> None:
    @task
    def plan_sources(params: dict[str, Any], triggering_asset_events: Any) -> list[list[str]]:
        """Split the sources to ingest into shards; inbox and push events ingest just the inbox and the pushed."""
        from pipeline import stages
        from pipeline.sources.websub import push_source

        events = {
            getattr(asset, "name", asset): list(found) for asset, found in (triggering_asset_events or {}).items()
        }
        pushed = {source for event in events.get(NEWS_PUSHES.name, []) if (source := push_source(event.extra))}
        triggered = ([INBOX_ID] if NEWS_INBOX.name in events else []) + sorted(pushed)
        only = triggered or params["sources"] or None
        return stages.plan_shards(get_settings(), only)

    @task(pool=FETCH_POOL, queue="fetch")  # Celery queues: I/O-bound fetch and CPU-bound enrich workers
    def fetch_sources(source_ids: list[str], run_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Fetch the shard's sources concurrently and archive new payloads under raw/."""
        from pipeline import stages

        since = date.fromisoformat(params["since"]) if params.get("since") else None
        results = stages.fetch_sources(
            object_store(), get_settings(), source_ids, run_id, params["force_refetch"], since
        )
        return _dump(results)

    @task
    def normalise_sources(fetched: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Parse and normalise the payloads; quarantine what fails."""
        from pipeline import stages

        return _dump(stages.normalise_sources(object_store(), get_settings(), _load(fetched, Fetched)))

    @task(queue="enrich")
    def enrich_sources(normalised: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add language, summary and story to the staged articles."""
        from pipeline import stages

        return _dump(stages.enrich_sources(object_store(), get_settings(), _load(normalised, Normalised)))

    @task
    def store_sources(enriched: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """Store the articles."""
        from pipeline import stages

        results = stages.store_sources(object_store(), get_settings(), _load(enriched, Enriched), params["dry_run"])
        return {"results": _dump(results)}

    @task(trigger_rule="all_done")
    def write_run_report(
        shards: list[list[str]],
        stored: list[dict[str, Any] | None] | dict[str, Any],
        run_id: str,
        dag_run: Any,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        """Write the run report; fail the run only when every source failed."""
        from pipeline import stages

        planned = [source_id for shard in shards for source_id in shard]
        results = _stored_results(stored)
        key, report = stages.write_run_report(
            object_store(), "news_ingest", run_id, planned, results, dag_run.start_date, dict(params)
        )
        if report.all_failed:
            raise RuntimeError(f"every source failed: {', '.join(report.failed_sources)} (report {key})")
        # read = stored + duplicates + quarantined + filtered: the task's output shows every term of it.
        counts = report.model_dump(include={"read", "stored", "duplicates", "quarantined", "filtered"})
        return {"report_key": key, **counts, "failed": report.failed_sources}

    # all_done: the shards that stored announce their days even when another shard failed.
    @task(outlets=[NEWS_ARTICLES], trigger_rule="all_done")
    def announce_dates(stored: list[dict[str, Any] | None] | dict[str, Any], outlet_events: Any) -> list[str]:
        """Emit one news_articles partition per day the run stored articles for; skip when it stored none."""
        from airflow.sdk.exceptions import AirflowSkipException

        days = sorted({d.isoformat() for r in _stored_results(stored) for d in r.dates})
        if not days:  # a skipped task emits no event, so no digest run without a day to build
            raise AirflowSkipException("no article stored: no day to announce")
        outlet_events[NEWS_ARTICLES].add_partitions(days)
        return days

    @task_group
    def ingest_shard(source_ids: list[str]) -> Any:
        """One shard through every stage; shards move on independently of each other."""
        return store_sources(enrich_sources(normalise_sources(fetch_sources(source_ids))))

    shards = plan_sources()
    stored = ingest_shard.expand(source_ids=shards)
    write_run_report(shards, stored)
    announce_dates(stored)


def _stored_results(stored: list[dict[str, Any] | None] | dict[str, Any]) -> list[Stored]:
    # One shard's output arrives as is, several as a list (with None for shards that failed).
    per_shard = [stored] if isinstance(stored, dict) else stored
    return [r for shard in per_shard if shard for r in _load(shard["results"], Stored)]


def _dump(results: list[SourceProgress]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in results]


def _load(results: list[dict[str, Any]], stage_result: type[R]) -> list[R]:
    return [stage_result.model_validate(r) for r in results]


news_ingest()
