"""
### news_digest

Compact each day's articles into the Parquet lake (`lake/articles/date=…/`) and build and publish its
digest (`digests/YYYY-MM-DD/digest.{html,md,json}`, `digests/latest.html`, `digests/feed.atom`); then apply
the retention of raw/ and quarantine/ when one is configured. Runs once per day partition (`YYYY-MM-DD`):
every day for the previous day (the `news_day` clock), and for each day `news_ingest` stored articles for
(the `news_articles` asset). Clearing a run rebuilds its day. Emits `news_digests`.

Trigger form: `date` rebuilds one chosen day; `email` also sends it. Rebuilding is idempotent, so
backfills are safe. With `NEWS_DIGEST_EMAIL_TO` set, each scheduled run e-mails the digest through
Airflow's SMTP notifier (connection `NEWS_SMTP_CONN_ID`, default `smtp_default`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pendulum
from airflow.sdk import Param, PartitionedAssetTimetable, StartOfDayMapper, dag, task, task_group
from news_airflow import DAY_KEY, DEFAULT_ARGS, NEWS_ARTICLES, NEWS_DAY, NEWS_DIGESTS, object_store

from pipeline.settings import get_settings

# Tasks import pipeline.stages when they run: it loads libraries (lingua, trafilatura, pyarrow, boto3)
# that would make every parse of this file slow.


@dag(
    dag_id="news_digest",
    # One run per day partition, from either asset; the mapper keeps the key and gives the run its date.
    schedule=PartitionedAssetTimetable(
        assets=NEWS_ARTICLES | NEWS_DAY,
        default_partition_mapper=StartOfDayMapper(input_format=DAY_KEY, output_format=DAY_KEY),
    ),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["news", "digest"],
    doc_md=__doc__,
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Day to rebuild (empty: the run's partition, else yesterday).",
        ),
        "email": Param(False, type="boolean", description="E-mail the digest (needs NEWS_DIGEST_EMAIL_TO)."),
    },
)
def news_digest() -> None:
    @task
    def dates_to_build(params: dict[str, Any], partition_key: Any = None, logical_date: Any = None) -> list[str]:
        """Choose the day to rebuild: the form's date, the run's partition, or yesterday."""
        from pipeline import stages

        days = stages.digest_dates(params.get("date"), partition_key, logical_date)
        return [d.isoformat() for d in days]

    @task
    def compact_lake(day: str) -> str | None:
        """Rewrite the day's Parquet file in lake/ from its articles."""
        from pipeline import stages

        return stages.compact_lake(object_store(), date.fromisoformat(day))

    @task(outlets=[NEWS_DIGESTS])
    def publish_digest(day: str, outlet_events: Any) -> dict[str, str]:
        """Build and publish the digest of one day, announcing it as that day's news_digests partition."""
        from pipeline import stages

        published = stages.publish_daily_digest(object_store(), get_settings(), date.fromisoformat(day))
        # The day itself, not the run's key: a run from the form has no partition, its digest still has a day.
        outlet_events[NEWS_DIGESTS].add_partitions([day])
        return published

    @task
    def send_digest(
        day: str, params: dict[str, Any], dag_run: Any = None, triggering_asset_events: Any = None, **context: Any
    ) -> list[str]:
        """E-mail the day's digest: on the daily run (news_day's), or when the form asks, and only with recipients."""
        from airflow.sdk.exceptions import AirflowSkipException
        from news_airflow import email_digest

        # Partitioned runs are all asset-triggered: the daily one is the run the news_day clock started.
        daily = any(asset.name == NEWS_DAY.name for asset in (triggering_asset_events or {}))
        wanted = params.get("email") or daily
        if not wanted or not get_settings().digest_email_to:
            raise AirflowSkipException("e-mail is off: no NEWS_DIGEST_EMAIL_TO, or not asked for")
        return email_digest(day, context | {"params": params, "dag_run": dag_run})

    @task(trigger_rule="none_failed")  # a skipped e-mail must not skip the retention
    def apply_retention() -> dict[str, int]:
        """Delete raw/ and quarantine/ objects past their retention (nothing unless configured)."""
        from pipeline import stages

        return stages.apply_retention(object_store(), get_settings(), pendulum.now("UTC").date())

    @task_group
    def rebuild_day(day: str) -> None:
        """One day: its lake partition, then its digest, then the e-mail when one is due."""
        compact_lake(day) >> publish_digest(day) >> send_digest(day)

    rebuild_day.expand(day=dates_to_build()) >> apply_retention()


news_digest()
