"""Faults while news_ingest runs in Airflow: the object store dies (the failing task retries with backoff and
the run succeeds once the store is back), and a task is SIGKILLed while storing (a re-run converges)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from pipeline.models import RunReport
from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings, get_settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import DAGS, dagbag, point_airflow_at
from tests.support.feedserver import FeedServer, Route
from tests.support.processes import killed_while_storing, run_script
from tests.support.rss import rss, rss_item
from tests.support.scheduler import retry_reasons
from tests.support.sources import accounted, register_feeds, seed_documents, stored_once


@pytest.fixture
def own_s3(
    own_s3: tuple[Settings, EmbeddedS3], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, EmbeddedS3]]:
    """The test's own SeaweedFS (so it can be killed), wired into Airflow like `airflow_env`."""
    point_airflow_at(own_s3[0], monkeypatch)
    yield own_s3
    get_settings.cache_clear()


def test_store_killed_mid_run_then_retries_succeed(airflow_db: None, own_s3: tuple[Settings, EmbeddedS3]) -> None:
    settings, server = own_s3
    store = ObjectStore.from_settings(settings)
    seed_documents(settings, "seed-kamikawa.txt", source_id="seed-articles")
    outage: dict[str, float] = {}

    def kill_after_fetch_then_restart() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(True for _ in store.list_keys("raw/seed-articles/")):
            time.sleep(0.05)
        server.down()  # mid-run: the payload is archived, nothing normalised or stored yet
        outage["down"] = time.monotonic()
        time.sleep(8)  # shorter than the first retry delay (20 s): the retry finds the store back
        server.up()
        outage["up"] = time.monotonic()

    chaos = threading.Thread(target=kill_after_fetch_then_restart, daemon=True)
    chaos.start()
    run = dagbag().dags["news_ingest"].test()
    chaos.join(timeout=180)
    assert "down" in outage and "up" in outage, "the store was never killed: the test proves nothing"
    assert run.state == "success"
    tries = {ti.task_id: ti.try_number for ti in run.get_task_instances()}
    assert max(tries.values()) >= 2, f"a task should have failed and been retried: {tries}"
    assert any(reason.startswith("transient") for reason in retry_reasons(run)), "the retry policy chose the retry"
    [article] = list(store.list_keys("articles/"))
    assert json.loads(store.get_bytes(article))["revision"] == 1
    [report] = list(store.list_keys("runs/news_ingest/"))
    body = json.loads(store.get_bytes(report))
    assert (body["read"], body["stored"], body["failed_sources"]) == (1, 1, [])


# dag.test() runs every task inside its own process, so killing this one lands inside store_sources:
# four articles written, eight to go.
_KILLED_WHILE_STORING = killed_while_storing(
    4,
    f'from airflow.dag_processing.dagbag import DagBag\nDagBag(dag_folder={str(DAGS)!r}).dags["news_ingest"].test()',
)


def test_task_killed_with_sigkill_while_storing_converges_on_rerun(
    airflow_db: None, airflow_env: Settings, feed_server: FeedServer
) -> None:
    settings, store = airflow_env, ObjectStore.from_settings(airflow_env)
    items = [
        rss_item(
            f"Harbour strike, day {i}",
            f"https://port.example/{i}",
            f"Dock workers in port {i} stayed out for a {i}th day, the union said.",
            f"Mon, 04 Mar 2024 0{i % 9}:00:00 GMT",
        )
        for i in range(12)
    ]
    feed_server.routes["/port.xml"] = Route(body=rss("Port", items, declaration=False))
    register_feeds(settings, feed_server, {"port": "/port.xml"})

    killed = run_script(_KILLED_WHILE_STORING)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert len(stored_once(store)) == 4  # the fetch state is committed after the articles: not yet
    assert not list(store.list_keys("runs/news_ingest/"))

    run = dagbag().dags["news_ingest"].test()
    assert run.state == "success"
    assert len(stored_once(store)) == 12
    assert {json.loads(store.get_bytes(k))["revision"] for k in store.list_keys("articles/")} == {1}
    [report_key] = list(store.list_keys("runs/news_ingest/"))
    report = RunReport.model_validate_json(store.get_bytes(report_key))
    accounted(report)
    assert (report.read, report.stored, report.duplicates, report.failed_sources) == (12, 8, 4, [])
    state = json.loads(store.get_bytes("state/sources/port.json"))  # committed by the run that finished
    assert state["health"] == "healthy" and state["content_sha256"] is not None
