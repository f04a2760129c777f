"""The object store dies while news_ingest runs in Airflow: the failing task retries with backoff, and once
the store is back the run succeeds with every article stored exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings, get_settings
from pipeline.storage import ObjectStore
from tests.conftest import embedded_settings, seed_documents
from tests.dags.conftest import DAGS, point_airflow_at


@pytest.fixture
def own_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, EmbeddedS3]]:
    """A SeaweedFS of this test's own (so it can be killed), wired into Airflow like `airflow_env`."""
    settings = embedded_settings(tmp_path / "s3").model_copy(update={"sources_file": tmp_path / "sources.toml"})
    server = EmbeddedS3(settings)
    server.up()
    ObjectStore.from_settings(settings).ensure_bucket()
    point_airflow_at(settings, monkeypatch)
    try:
        yield settings, server
    finally:
        get_settings.cache_clear()
        server.down()


def test_store_killed_mid_run_then_retries_succeed(airflow_db: None, own_s3: tuple[Settings, EmbeddedS3]) -> None:
    from airflow.dag_processing.dagbag import DagBag

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
    run = DagBag(dag_folder=str(DAGS)).dags["news_ingest"].test()
    chaos.join(timeout=180)
    assert "down" in outage and "up" in outage, "the store was never killed: the test proves nothing"
    assert run.state == "success"
    tries = {ti.task_id: ti.try_number for ti in run.get_task_instances()}
    assert max(tries.values()) >= 2, f"a task should have failed and been retried: {tries}"
    [article] = list(store.list_keys("articles/"))
    assert json.loads(store.get_bytes(article))["revision"] == 1
    [report] = list(store.list_keys("runs/news_ingest/"))
    body = json.loads(store.get_bytes(report))
    assert (body["read"], body["stored"], body["failed_sources"]) == (1, 1, [])
