"""E-mail delivery of the digest through Airflow's SMTP notifier, to a real SMTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pipeline.settings import Settings, get_settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import DagRuns, dagbag
from tests.support.ports import free_ports
from tests.support.s3 import copy_bucket


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    [port] = free_ports(1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True},
    }
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_SMTP", json.dumps(connection))
    monkeypatch.setenv("NEWS_SMTP_CONN_ID", "news_smtp")
    monkeypatch.setenv("NEWS_DIGEST_EMAIL_FROM", "digest@news.test")
    try:
        yield inbox
    finally:
        controller.stop()


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
