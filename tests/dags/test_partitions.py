"""news_digest runs per day partition: an ingest that stores articles of two days emits one news_articles
event per day, and the scheduler makes one news_digest run of each; the daily clock emits yesterday's."""

from __future__ import annotations

from typing import Any

import pendulum

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import dagbag
from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item
from tests.support.scheduler import create_partitioned_runs, partition_events, runs_by_partition, unpaused
from tests.support.sources import register_feeds

# Days no other test's articles fall on, so the shared metadata DB holds no other partition of them.
DAYS = {"2023-11-29", "2023-11-30"}


def test_an_ingest_of_two_days_makes_one_digest_run_per_day(
    airflow_db: None, airflow_env: Settings, feed_server: FeedServer
) -> None:
    items = [
        rss_item(
            f"Ferry timetable changes, part {i}",
            f"https://ferry.example/{i}",
            f"The island ferry will leave {i} minutes earlier from next week, the operator said.",
            f"{'Wed, 29' if i % 2 else 'Thu, 30'} Nov 2023 1{i}:00:00 GMT",
        )
        for i in range(4)
    ]
    feed_server.routes["/ferry.xml"] = Route(body=rss("Ferry", items, declaration=False))
    register_feeds(airflow_env, feed_server, {"ferry": "/ferry.xml"})
    bag = dagbag()

    with unpaused("news_digest"):
        ingest = bag.dags["news_ingest"].test()
        assert ingest.state == "success"
        events = partition_events("news_articles", ingest.run_id)
        assert sorted(e.partition_key for e in events) == sorted(DAYS), "one event per day stored"
        create_partitioned_runs()

    runs = runs_by_partition("news_digest", DAYS)
    assert {key: len(found) for key, found in runs.items()} == dict.fromkeys(DAYS, 1)
    for key, [run] in runs.items():
        assert run.run_type == "asset_triggered"
        assert run.partition_date.date().isoformat() == key  # the mapper reads the key as a day
    assert len(list(ObjectStore.from_settings(airflow_env).list_keys("articles/"))) == 4


def test_the_daily_clock_closes_the_day_before(airflow_db: None) -> None:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable: Any = coerce_to_core_timetable(dagbag().dags["news_day"].timetable)
    after = pendulum.datetime(2024, 1, 8, 5, tz="UTC")
    info = timetable.next_dagrun_info_v2(last_dagrun_info=None, restriction=TimeRestriction(after, None, catchup=True))
    assert (info.run_after.isoformat(), info.partition_key) == ("2024-01-08T06:00:00+00:00", "2024-01-07")
    # A backfill over days makes one partition per day named.
    days = timetable.iter_partition_dagrun_infos(earliest=after.subtract(days=2), latest=after)
    assert [i.partition_key for i in days] == ["2024-01-06", "2024-01-07"]


def test_the_clock_without_a_day_fails_and_emits_nothing(airflow_db: None) -> None:
    run = dagbag().dags["news_day"].test()  # a manual run has no partition key
    [close] = run.get_task_instances()
    assert (close.state, close.try_number) == ("failed", 1)
    assert partition_events("news_day", run.run_id) == []
