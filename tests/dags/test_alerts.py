"""Watchlist alerts through news_alerts: a real SMTP server and a real webhook receiver that checks signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pipeline.digest import build_digest, publish_digest
from pipeline.errors import TransientError
from pipeline.models import Article
from pipeline.settings import Settings, get_settings
from pipeline.stages.alerts import alert_days, claim_alerts, deliver_alerts
from pipeline.storage.store import ObjectStore
from pipeline.watchlists import Alert, AlertState, Channel
from tests.support.airflow import dagbag
from tests.support.articles import DAY
from tests.support.paths import ROOT
from tests.support.processes import captured_output
from tests.support.receivers import Inbox, WebhookReceiver, smtp_server, webhook_receiver
from tests.support.watchlists import story_reports

SECRET = "s3cret-for-tests"
DIGEST_URL = "https://news.example.org/digests/{date}/digest.html"
WATCHLISTS = """
[[watchlists]]
name = "quakes"
words = ["earthquake"]
email = ["desk@news.test"]

[[watchlists]]
name = "japan"
countries = ["JP"]
grow_by = 2
webhook = "news_hook"
"""
QUAKE: dict[str, Any] = {"story": "s1", "title": "Earthquake shakes northern Hokkaido", "places": [("Sapporo", "JP")]}
STORM: dict[str, Any] = {"story": "s2", "title": "Storm closes the airports of Paris", "places": [("Paris", "FR")]}


@dataclass
class Receivers:
    inbox: Inbox
    hook: WebhookReceiver


@pytest.fixture
def receivers(airflow_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receivers]:
    """The watchlists in the test's sources file; SMTP and webhook connections to receivers on loopback."""
    airflow_env.sources_file.write_text(WATCHLISTS)
    with smtp_server() as (inbox, smtp), webhook_receiver(SECRET) as hook:
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_SMTP", json.dumps(smtp))
        monkeypatch.setenv("NEWS_SMTP_CONN_ID", "news_smtp")
        monkeypatch.setenv("NEWS_ALERTS_FROM", "alerts@news.test")
        webhook = {"conn_type": "http", "host": hook.url, "password": SECRET}
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_HOOK", json.dumps(webhook))
        monkeypatch.setenv("NEWS_DIGEST_URL", DIGEST_URL)
        monkeypatch.syspath_prepend(str(ROOT / "plugins"))
        get_settings.cache_clear()
        yield Receivers(inbox, hook)


def publish(store: ObjectStore, articles: list[Article]) -> None:
    publish_digest(store, build_digest(DAY, articles), feed_entries=30)


def test_one_alert_per_story_across_copies_and_runs_and_another_after_growth(
    airflow_db: None, store: ObjectStore, receivers: Receivers
) -> None:
    # Two sources and two copies (one from a source of its own) of the quake; one report of a storm.
    quake = story_reports(sources=["wire", "daily"], first=1, copies=["portal", "daily"], **QUAKE)
    storm = story_reports(sources=["wire"], first=10, **STORM)
    publish(store, quake + storm)
    dag = dagbag().dags["news_alerts"]

    for _ in range(2):  # the second run finds every alert already sent
        with captured_output() as output:
            run = dag.test(run_conf={"date": DAY.isoformat()})
        assert run.state == "success"
        [message] = receivers.inbox.messages
        [delivery] = receivers.hook.deliveries

    assert message["To"] == "desk@news.test" and message["From"] == "alerts@news.test"
    assert message["Subject"] == "[quakes] Earthquake shakes northern Hokkaido"
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_content()
    link = f"https://news.example.org/digests/{DAY.isoformat()}/digest.html#story-s1"
    assert f'<a href="{link}">' in html and "Reported by: DAILY, PORTAL, WIRE" in html
    assert 'id="story-s1"' in store.get_bytes(f"digests/{DAY.isoformat()}/digest.html").decode()  # the anchor

    assert delivery.signed, "the signature header is the body's HMAC-SHA256 under the connection's password"
    assert delivery.headers["X-News-Alert"] == "japan/s1/1"
    alert = delivery.json()
    assert (alert["watchlist"], alert["story_id"], alert["number"], alert["kind"]) == ("japan", "s1", 1, "new")
    assert alert["link"] == link and alert["sources"] == ["DAILY", "PORTAL", "WIRE"]
    assert "Done. Returned value was" in output.text and SECRET not in output.text  # the logs, never the secret

    # One more source is not growth enough (grow_by = 2), nor are more copies; a second brings the alert.
    publish(store, quake + storm + story_reports(sources=["tv"], first=20, copies=["portal"], **QUAKE))
    assert dag.test().state == "success"  # as the asset triggers it: no day given, the newest digests read
    assert len(receivers.hook.deliveries) == 1
    publish(store, quake + storm + story_reports(sources=["tv", "radio"], first=20, **QUAKE))
    assert dag.test().state == "success"
    assert len(receivers.inbox.messages) == 1  # the quakes watchlist has no grow_by: one alert per story
    grown = receivers.hook.deliveries[1]
    assert grown.signed and grown.headers["X-News-Alert"] == "japan/s1/2"
    # Its new sources in the order they were first seen: TV by the run before, RADIO by this one.
    assert (grown.json()["number"], grown.json()["kind"], grown.json()["new_sources"]) == (2, "grown", ["TV", "RADIO"])
    state = AlertState.model_validate_json(store.get_bytes("state/alerts/japan/s1.json"))
    assert [(a.number, a.sources, a.sent) for a in state.alerts] == [(1, 3, True), (2, 5, True)]


def test_two_runs_never_send_one_alert_twice_and_a_failed_send_is_sent_again(
    store: ObjectStore, receivers: Receivers
) -> None:
    from news_notifiers import notify_alert

    settings = get_settings()
    # One watchlist alerting on both channels, so a failure of one must not send the other twice.
    settings.sources_file.write_text(
        '[[watchlists]]\nname = "both"\nwords = ["earthquake"]\nemail = ["desk@news.test"]\nwebhook = "news_hook"\n'
    )
    publish(store, story_reports(sources=["wire", "daily"], first=1, **QUAKE))
    now = datetime(2024, 1, 8, tzinfo=UTC)

    def send(alert: Alert, channel: Channel) -> None:
        notify_alert(alert, channel, {})

    [first] = claim_alerts(store, settings, [DAY], "run-a", DIGEST_URL, now)
    assert (first.watchlist, first.story_id, first.channels) == ("both", "s1", ["email", "webhook"])
    assert claim_alerts(store, settings, [DAY], "run-b", DIGEST_URL, now) == []  # run-a is sending it

    receivers.hook.failures = 1  # the webhook answers 500 once
    with pytest.raises(
        TransientError, match=r"1 of 1 alerts not sent: both/s1 \(webhook\): webhook 'news_hook' answered 500"
    ):
        deliver_alerts(store, [first], send)
    assert len(receivers.inbox.messages) == 1 and receivers.hook.deliveries == []

    # The claim was given back with the e-mail done: the next run sends the webhook alone.
    [again] = claim_alerts(store, settings, [DAY], "run-b", DIGEST_URL, now)
    assert (again.number, again.run_id, again.delivered) == (1, "run-b", ["email"])
    assert deliver_alerts(store, [again], send) == ["both/s1#1"]
    assert len(receivers.inbox.messages) == 1
    assert len(receivers.hook.deliveries) == 1 and receivers.hook.deliveries[0].signed
    assert claim_alerts(store, settings, [DAY], "run-c", DIGEST_URL, now + timedelta(days=1)) == []
    state = AlertState.model_validate_json(store.get_bytes("state/alerts/both/s1.json"))
    assert [(a.run_id, a.sent, a.delivered) for a in state.alerts] == [("run-b", True, ["email", "webhook"])]


def test_a_claim_left_by_a_dead_run_is_taken_over(store: ObjectStore, receivers: Receivers) -> None:
    settings = get_settings()
    publish(store, story_reports(sources=["wire"], first=1, **QUAKE))
    now = datetime(2024, 1, 8, tzinfo=UTC)
    assert len(claim_alerts(store, settings, [DAY], "run-a", DIGEST_URL, now)) == 2  # and then run-a died
    assert claim_alerts(store, settings, [DAY], "run-b", DIGEST_URL, now + timedelta(minutes=30)) == []
    taken = claim_alerts(store, settings, [DAY], "run-b", DIGEST_URL, now + timedelta(hours=3))
    assert [(a.number, a.run_id) for a in taken] == [(1, "run-b"), (1, "run-b")]


def test_the_days_read_are_the_forms_else_the_events_else_the_newest_digests(store: ObjectStore) -> None:
    for day in ("2024-01-05", "2024-01-06", "2024-01-07"):
        store.put_bytes(f"digests/{day}/digest.json", b"{}")
    assert alert_days(store, "2024-01-01", [{"date": "2024-01-05"}]) == [date(2024, 1, 1)]
    events = [{"date": "2024-01-05"}, {"partition_key": "2024-01-06", "date": None}, {"dates": ["2024-01-05"]}]
    assert alert_days(store, None, events) == [date(2024, 1, 5), date(2024, 1, 6)]
    assert alert_days(store, None, [{"partition_key": "shard-3"}, {}]) == [date(2024, 1, 6), date(2024, 1, 7)]
