"""E-mail delivery of the digest through Airflow's SMTP notifier, to a real SMTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pipeline.settings import Settings, get_settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import DagRuns, dagbag
from tests.support.receivers import Inbox, smtp_server
from tests.support.s3 import copy_bucket


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_server() as (inbox, connection):
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_SMTP", json.dumps(connection))
        monkeypatch.setenv("NEWS_SMTP_CONN_ID", "news_smtp")
        monkeypatch.setenv("NEWS_DIGEST_EMAIL_FROM", "digest@news.test")
        yield inbox


def test_digest_is_emailed_when_asked_and_skipped_without_recipients(
    seed_runs: DagRuns, airflow_env: Settings, store: ObjectStore, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert seed_runs.ingest.state == "success"
    copy_bucket(seed_runs.store, store)  # what news_ingest stored from the seed documents, in this test's bucket
    bag = dagbag()

    run = bag.dags["news_digest"].test(run_conf={"date": "2024-01-07", "email": True})
    assert run.state == "success" and smtp.messages == []  # no recipients configured: e-mail is off
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["rebuild_day.send_digest"] == "skipped" and states["apply_retention"] == "success"

    monkeypatch.setenv("NEWS_DIGEST_EMAIL_TO", '["reader@news.test"]')
    get_settings.cache_clear()
    run = bag.dags["news_digest"].test(run_conf={"date": "2024-01-07", "email": True})
    assert run.state == "success"
    [message] = smtp.messages
    assert message["To"] == "reader@news.test" and message["From"] == "digest@news.test"
    assert message["Subject"] == "News digest for Sunday 7 January 2024"
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_content()
    assert html == store.get_bytes("digests/2024-01-07/digest.html").decode()
