"""The review task's place in news_digest, its deadline, and the late-digest alert sent to a real SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pipeline.settings import get_settings
from tests.support.airflow import dagbag
from tests.support.mail import html_of
from tests.support.receivers import Inbox, smtp_server

REVIEW = "rebuild_day.review_digest"


@pytest.fixture
def editors(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The recipients' inbox on a real SMTP server, reached through the `news_smtp` connection."""
    with smtp_server() as (inbox, connection):
        for name, value in {
            "AIRFLOW_CONN_NEWS_SMTP": json.dumps(connection),
            "NEWS_SMTP_CONN_ID": "news_smtp",
            "NEWS_DIGEST_EMAIL_FROM": "digest@news.test",
            "NEWS_DIGEST_EMAIL_TO": '["editors@news.test"]',
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield inbox
    get_settings.cache_clear()


def test_the_review_sits_between_the_published_digest_and_the_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_DIGEST_DEADLINE", raising=False)
    dag = dagbag().dags["news_digest"]
    review = dag.get_task(REVIEW)
    assert "rebuild_day.publish_digest" in review.upstream_task_ids  # and dates_to_build, which maps the day
    assert review.downstream_task_ids == {"rebuild_day.send_digest"}
    assert review.multiple and list(review.params) == ["note"], "the form holds the note, not the run's params"
    assert dag.deadline is None


def test_the_deadline_counts_from_the_time_a_run_is_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import DeadlineReference

    monkeypatch.setenv("NEWS_DIGEST_DEADLINE", "PT2H")
    [deadline] = dagbag().dags["news_digest"].deadline
    assert deadline.interval == timedelta(hours=2) and deadline.name == "digest_late"
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.callback.path == "news_review.alert_late_digest"


def _context(run_type: str) -> dict[str, object]:
    """What the scheduler hands a deadline callback: the run as the REST API shows it, and the deadline."""
    run = {
        "dag_run_id": f"{run_type}__2024-01-08T06:00:00+00:00",
        "dag_id": "news_digest",
        "run_type": run_type,
        "logical_date": "2024-01-08T06:00:00Z",
        "state": "running",
        "conf": {},
    }
    return {"dag_run": run, "deadline": {"id": "d-1", "deadline_time": "2024-01-08T08:00:00+00:00"}}


def test_a_missed_deadline_is_emailed_naming_the_day(editors: Inbox) -> None:
    from news_review import alert_late_digest

    alert_late_digest(_context("scheduled"))
    [message] = editors.messages
    assert message["Subject"] == "Digest late: 2024-01-07 not done by 2024-01-08T08:00:00+00:00"
    assert "scheduled__2024-01-08T06:00:00+00:00" in html_of(message) and "running" in html_of(message)

    alert_late_digest(_context("backfill"))  # past days rebuilt: late by design
    assert len(editors.messages) == 1


def test_the_daily_run_is_the_one_news_day_started(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from news_airflow import NEWS_ARTICLES, NEWS_DAY
    from news_review import email_due

    tick = [SimpleNamespace(source_run_id="scheduled__2024-01-08T06:00:00+00:00")]
    monkeypatch.setenv("NEWS_DIGEST_EMAIL_TO", '["editors@news.test"]')
    get_settings.cache_clear()
    try:
        # Partitioned runs are all asset-triggered: which asset, and which run of it, says if it is the daily one.
        assert email_due({"email": False}, {NEWS_DAY: tick})
        assert not email_due({"email": False}, {NEWS_DAY: [SimpleNamespace(source_run_id="backfill__2024-01-08")]})
        assert not email_due({"email": False}, {NEWS_ARTICLES: tick})
        assert email_due({"email": True}, {NEWS_ARTICLES: tick})
        monkeypatch.delenv("NEWS_DIGEST_EMAIL_TO")
        get_settings.cache_clear()
        assert not email_due({"email": False}, {NEWS_DAY: tick}), "no recipients, no e-mail"
    finally:
        get_settings.cache_clear()
