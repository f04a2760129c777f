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

With `NEWS_DIGEST_REVIEW` on, the e-mail waits in `review_digest` for an editor (Browse > Required Actions):
approve, drop some of the top stories, or reject with a note; the web digest is published before and
regardless (off, the task passes at once). With `NEWS_DIGEST_DEADLINE` set when this file is parsed, a run
not done that long after its logical date (the scheduled time) logs an alert and e-mails it to the
recipients.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pendulum
from airflow.sdk import Param, PartitionedAssetTimetable, StartOfDayMapper, dag, task, task_group
from news_airflow import DAY_KEY, DEFAULT_ARGS, NEWS_ARTICLES, NEWS_DAY, NEWS_DIGESTS, object_store
from news_review import DigestReviewOperator, email_due, late_digest_deadline

from pipeline.settings import get_settings

# Tasks import pipeline.stages when they run: it loads libraries (lingua, trafilatura, pyarrow, boto3)
# that would make every parse of this file slow.

# Read when this file is parsed, like NEWS_DIGEST_CRON: a deadline is part of the DAG's definition.
DEADLINE = late_digest_deadline(os.environ.get("NEWS_DIGEST_DEADLINE"))


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
    deadline=DEADLINE,
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
        day: str,
        params: dict[str, Any],
        review: dict[str, Any] | None = None,
        dag_run: Any = None,
        triggering_asset_events: Any = None,
        **context: Any,
    ) -> list[str]:
        """E-mail the day's digest: on the daily run (news_day's), or when the form asks, and only with recipients
        set; after a review, only when approved and without the stories it dropped."""
        from airflow.sdk.exceptions import AirflowSkipException
        from news_airflow import email_digest

        if not email_due(params, triggering_asset_events):
            raise AirflowSkipException("e-mail is off: no NEWS_DIGEST_EMAIL_TO, or not asked for")
        if review is not None and not review["approved"]:
            raise AirflowSkipException(f"the editor {review['by']} rejected the e-mail: {review['note']}")
        dropped = review["dropped"] if review else []
        return email_digest(day, context | {"params": params, "dag_run": dag_run}, dropped)

    @task(trigger_rule="none_failed")  # a skipped e-mail must not skip the retention
    def apply_retention() -> dict[str, int]:
        """Delete raw/ and quarantine/ objects past their retention (nothing unless configured)."""
        from pipeline import stages

        return stages.apply_retention(object_store(), get_settings(), pendulum.now("UTC").date())

    @task_group
    def rebuild_day(day: str) -> None:
        """One day: its lake partition, then its digest, then the e-mail when one is due (after a review)."""
        review = DigestReviewOperator(task_id="review_digest", day=day)  # passes at once unless review is on
        compact_lake(day) >> publish_digest(day) >> review >> send_digest(day, review=review.output)

    rebuild_day.expand(day=dates_to_build()) >> apply_retention()


news_digest()
