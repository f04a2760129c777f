"""
### news_day

The daily clock of the digest: at `NEWS_DIGEST_CRON` (06:00 UTC) it closes the day before by emitting that
day's partition of `news_day`, and `news_digest` rebuilds and publishes that day. A backfill of this DAG over a
range of days (Dag page → Backfill, or `airflow backfill create --dag-id news_day ...`) closes each day of the
range again, so `news_digest` rebuilds each of them, one partitioned run per day.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import CronPartitionTimetable, dag, task
from news_airflow import DAY_KEY, DEFAULT_ARGS, DIGEST_CRON, NEWS_DAY

from pipeline.errors import ConfigError


@dag(
    dag_id="news_day",
    # run_offset=-1: the run at 06:00 on the 8th is the partition of the 7th.
    schedule=CronPartitionTimetable(DIGEST_CRON, timezone="UTC", run_offset=-1, key_format=DAY_KEY),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["news", "digest"],
    doc_md=__doc__,
)
def news_day() -> None:
    @task(outlets=[NEWS_DAY])
    def close_day(partition_key: Any = None) -> str:
        """Emit the day's partition of news_day (the run's own partition key)."""
        if not partition_key:  # failing emits nothing: an event without a day would build no digest
            raise ConfigError("news_day closes a day: trigger it with a partition key (YYYY-MM-DD)")
        return str(partition_key)

    close_day()


news_day()
