"""The editor's review of the e-mailed digest and the late-digest alert, through Airflow's real services: the
approval is given through the REST API as the UI's Required Actions page gives it."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from pipeline.stages.store import write_article
from pipeline.storage.keys import article_key
from tests.support.articles import make_article
from tests.support.mail import html_of, with_subject
from tests.support.receivers import Inbox
from tests.support.services import REVIEW_DEADLINE, Services, dag_ready, run_state

pytestmark = pytest.mark.e2e
DAY = date(2023, 11, 20)  # a day no other test stores, before theirs, so their `latest` digest stays theirs
SUBJECT = "News digest for Monday 20 November 2023"
REVIEW = "rebuild_day.review_digest"
HEADLINES = ["Harbour cranes stop for a week", "Council votes on the tram plan", "Rowing club wins the cup"]


@pytest.fixture(scope="module")
def day_stored(services: Services) -> None:
    """Three stories of DAY, stored as news_ingest stores its articles."""
    for n, headline in enumerate(HEADLINES, start=1):
        article = make_article(n, title=headline, source=f"outlet{n}", url=f"https://outlet{n}.example/{n}")
        published = datetime.combine(DAY, article.published_at.timetz())
        article = article.model_copy(update={"published_at": published, "published_date": DAY})
        write_article(services.store, article_key(DAY, article.id), article)
    services.wait_for("news_digest to be parsed and unpaused", lambda: dag_ready(services, "news_digest"))


def _start_run(services: Services) -> str:
    """A run for DAY that e-mails it, with a logical date (so a deadline) of now."""
    conf = {"date": DAY.isoformat(), "email": True}
    triggered = services.api(
        "POST", "/dags/news_digest/dagRuns", json={"logical_date": datetime.now(UTC).isoformat(), "conf": conf}
    )
    assert triggered.status_code == 200, triggered.text
    return str(triggered.json()["dag_run_id"])


def _hitl(run_id: str) -> str:
    return f"/dags/news_digest/dagRuns/{run_id}/taskInstances/{REVIEW}/0/hitlDetails"


def _awaiting(services: Services, run_id: str) -> dict[str, Any] | None:
    """The review's request once the task waits for an answer."""
    try:
        response = services.api("GET", _hitl(run_id))
    except httpx.TimeoutException:  # a busy api-server; the next poll asks again
        return None
    if response.status_code != 200:
        return None
    detail: dict[str, Any] = response.json()
    return detail if detail["task_instance"]["state"] == "awaiting_input" else None


def _answer(services: Services, run_id: str, chosen: list[str], note: str) -> None:
    """What the Required Actions form sends."""
    # Airflow 3.3 races an answer that lands while the parked task's process is still being reaped: the
    # scheduler then fails that try and asks again. An editor takes longer than this to read the request.
    time.sleep(15)
    answered = services.api("PATCH", _hitl(run_id), json={"chosen_options": chosen, "params_input": {"note": note}})
    assert answered.status_code == 200, answered.text


def _finished(services: Services, run_id: str) -> str | None:
    try:
        return run_state(services, "news_digest", run_id)
    except httpx.TimeoutException:
        return None


def _task_state(services: Services, run_id: str, task_id: str) -> str:
    response = services.api("GET", f"/dags/news_digest/dagRuns/{run_id}/taskInstances/{task_id}/0")
    return str(response.json()["state"])


def _alerts(mailbox: Inbox, run_id: str) -> list[str]:
    return [html_of(m) for m in with_subject(mailbox, "Digest late: 2023-11-20") if run_id in html_of(m)]


def test_approval_with_a_dropped_story_sends_the_rest_after_the_deadline_alert(
    services: Services, mailbox: Inbox, day_stored: None
) -> None:
    run_id = _start_run(services)
    detail = services.wait_for("the review to wait for the editor", lambda: _awaiting(services, run_id), timeout=600)
    assert services.store.etag(f"digests/{DAY}/digest.html"), "the web digest is published before the review"
    drops = {option.removeprefix("Drop: ").rsplit(" (", 1)[0]: option for option in detail["options"][2:]}
    assert detail["options"][:2] == ["Approve", "Reject"] and sorted(drops) == sorted(HEADLINES)
    assert detail["multiple"] and detail["subject"] == f"E-mail the {SUBJECT}?"
    assert all(headline in detail["body"] for headline in HEADLINES)

    # The run is held past its deadline: the alert is recorded on the run and e-mailed.
    alerts = services.wait_for("the deadline alert", lambda: _alerts(mailbox, run_id), timeout=REVIEW_DEADLINE + 120)
    assert "Required Actions" in alerts[0]
    deadlines = httpx.get(
        f"{services.base_url}/ui/dags/news_digest/dagRuns/{run_id}/deadlines",
        headers={"Authorization": f"Bearer {services.token()}"},
    ).json()["deadlines"]
    assert [(d["missed"], d["alert_name"]) for d in deadlines] == [(True, "digest_late")]

    sent_before = len(with_subject(mailbox, SUBJECT))
    _answer(services, run_id, ["Approve", drops[HEADLINES[1]]], note="the tram story is not confirmed")
    services.wait_for("the approved run to finish", lambda: _finished(services, run_id), timeout=600)
    [message] = with_subject(mailbox, SUBJECT)[sent_before:]
    html = html_of(message)
    assert HEADLINES[0] in html and HEADLINES[2] in html and HEADLINES[1] not in html
    assert HEADLINES[1] in services.store.get_bytes(f"digests/{DAY}/digest.html").decode(), "the web one is whole"


def test_rejection_sends_nothing(services: Services, mailbox: Inbox, day_stored: None) -> None:
    run_id = _start_run(services)
    services.wait_for("the review to wait for the editor", lambda: _awaiting(services, run_id), timeout=600)
    sent_before = len(with_subject(mailbox, SUBJECT))
    _answer(services, run_id, ["Reject"], note="wrong day")
    services.wait_for("the rejected run to finish", lambda: _finished(services, run_id), timeout=600)
    assert _task_state(services, run_id, "rebuild_day.send_digest") == "skipped"
    assert len(with_subject(mailbox, SUBJECT)) == sent_before
