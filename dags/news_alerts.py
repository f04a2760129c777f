"""
### news_alerts

Match the published digests against the watchlists (`[[watchlists]]` in the sources file) and alert their
recipients: once per story when it first matches, and again each time it has grown by the watchlist's
`grow_by` distinct sources. Runs whenever `news_digest` publishes a day (the `news_digests` asset, partitioned
by day), reading that day's digest, or else the two newest. Alerts go by e-mail (Airflow's SMTP notifier,
connection `NEWS_SMTP_CONN_ID`) and to signed webhooks (an Airflow connection per watchlist); each links its story in
the digest. What was alerted is kept under `state/alerts/` in the bucket, so a re-run sends nothing twice.

Trigger form: `date` matches the digest of one chosen day.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, PartitionedAssetTimetable, StartOfDayMapper, dag, task
from news_airflow import DAY_KEY, DEFAULT_ARGS, NEWS_DIGESTS, object_store

from pipeline.settings import get_settings


@dag(
    dag_id="news_alerts",
    # news_digests events carry their day as partition key, and such events start only partitioned DAGs.
    schedule=PartitionedAssetTimetable(
        assets=NEWS_DIGESTS,
        default_partition_mapper=StartOfDayMapper(input_format=DAY_KEY, output_format=DAY_KEY),
    ),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # runs are safe together (claims are conditional), but one at a time reads better
    default_args=DEFAULT_ARGS,
    tags=["news", "alerts"],
    doc_md=__doc__,
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Digest day to match (empty: from the trigger).",
        ),
    },
)
def news_alerts() -> None:
    @task
    def alert_days(params: dict[str, Any], partition_key: Any = None, triggering_asset_events: Any = None) -> list[str]:
        """Choose the digests to match: the form's day, the run's and the events' days, or the newest two."""
        from pipeline.stages import alerts

        events = [{"partition_key": partition_key}] + [
            event.extra | {"partition_key": getattr(event, "partition_key", None)}
            for events in (triggering_asset_events or {}).values()
            for event in events
        ]
        return [d.isoformat() for d in alerts.alert_days(object_store(), params.get("date"), events)]

    @task
    def send_alerts(days: list[str], run_id: str | None = None, **context: Any) -> list[str]:
        """Claim the alerts the digests of `days` are due and send each through its notifiers."""
        from datetime import date

        from news_notifiers import digest_url, notify_alert

        from pipeline.stages import alerts

        store, run = object_store(), str(run_id)
        due = alerts.claim_alerts(store, get_settings(), [date.fromisoformat(d) for d in days], run, digest_url())
        return alerts.deliver_alerts(store, due, lambda alert, channel: notify_alert(alert, channel, context))

    send_alerts(alert_days())


news_alerts()
