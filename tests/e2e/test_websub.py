"""WebSub through Airflow's real services: subscribe, the hub verifies intent through the api-server's callback,
a signed push starts news_ingest for that source alone; unsigned or wrongly signed pushes are refused."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item
from tests.support.services import Services, dag_ready, run_state, runs
from tests.support.websub_hub import Hub

pytestmark = pytest.mark.e2e
SOURCE = "websub-feed"


@pytest.fixture
def pushed_feed(services: Services) -> Iterator[tuple[Hub, FeedServer]]:
    """A feed naming a hub, added to the services' sources file for this test only."""
    sources = services.home / "sources.toml"
    before = sources.read_text()
    with Hub("127.0.0.5") as hub, FeedServer("127.0.0.6") as server:
        links = f'<atom:link rel="hub" href="{hub.url}"/><atom:link rel="self" href="{server.url("/feed.xml")}"/>'
        body = rss(
            "Pushed",
            [rss_item("Polled first", "https://push.example/polled", "Polled.", "Mon, 05 May 2025 08:00:00 GMT")],
        )
        server.routes["/feed.xml"] = Route(
            body=body.replace(b"<channel>", b'<channel xmlns:atom="http://www.w3.org/2005/Atom">' + links.encode(), 1),
            headers={"Content-Type": "application/rss+xml"},
        )
        sources.write_text(
            before + f'\n[[sources]]\nid = "{SOURCE}"\nkind = "feed"\nurl = "{server.url("/feed.xml")}"\n'
            "allow_private_network = true\n"
        )
        try:
            yield hub, server
        finally:
            sources.write_text(before)


def test_a_signed_push_is_ingested_for_its_source_alone(
    services: Services, pushed_feed: tuple[Hub, FeedServer]
) -> None:
    hub, server = pushed_feed
    services.wait_for("news_ingest to be parsed and unpaused", lambda: dag_ready(services, "news_ingest"))
    triggered = services.api(
        "POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": {"sources": [SOURCE]}}
    )
    assert triggered.status_code == 200, triggered.text
    services.wait_for("the polling run", lambda: run_state(services, "news_ingest", triggered.json()["dag_run_id"]))
    assert hub.verified.wait(30), "the hub verified intent through the api-server's callback"

    topic = server.url("/feed.xml")
    item = rss_item("Pushed by the hub", "https://push.example/pushed", "Pushed text.", "Mon, 05 May 2025 09:00:00 GMT")
    body = rss("Pushed", [item])
    assert hub.push(topic, body, "application/rss+xml", signing="none") == 403
    assert hub.push(topic, body, "application/rss+xml", signing="wrong") == 403
    before = {r["dag_run_id"] for r in runs(services, "news_ingest")}
    assert hub.push(topic, body, "application/rss+xml", signing="sha256") == 202

    def pushed_run() -> str | None:
        new = [r for r in runs(services, "news_ingest") if r["dag_run_id"] not in before]
        done = [r for r in new if r["run_type"] == "asset_triggered" and r["state"] == "success"]
        return done[0]["dag_run_id"] if done else None

    run_id = services.wait_for("the push's asset-triggered run", pushed_run, timeout=120)
    [report] = [
        r
        for r in (json.loads(services.store.get_bytes(k)) for k in services.store.list_keys("runs/news_ingest/"))
        if r["run_id"] == run_id
    ]
    assert [s["source"] for s in report["sources"]] == [SOURCE] and report["stored"] == 1
    titles = [
        json.loads(services.store.get_bytes(k))["title"] for k in services.store.list_keys("articles/date=2025-05-05/")
    ]
    assert sorted(titles) == ["Polled first", "Pushed by the hub"]
    listing = f"{services.base_url}/news-websub/subscriptions"
    assert httpx.get(listing).status_code == 401, "only the callback is reachable without sign-in"
    [listed] = httpx.get(listing, headers={"Authorization": f"Bearer {services.token()}"}).json()
    assert (listed["source"], listed["status"], "secret" in listed) == (SOURCE, "active", False)
    logs = (services.home / "api-server.log").read_text()
    assert f"refused a push for {SOURCE}: no signature" in logs
    secret = hub.subscriptions[topic].secret
    task_logs = [p.read_text(errors="replace") for p in services.home.rglob("*.log")]
    assert task_logs and not any(secret in text for text in task_logs), "the secret is never logged"
    with sqlite3.connect(services.home / "airflow.db") as db:
        xcoms = [str(value) for (value,) in db.execute("SELECT value FROM xcom")]
    assert xcoms and not any(secret in value for value in xcoms), "nor handed over in XCom"
