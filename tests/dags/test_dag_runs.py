"""`dag.test()` of both DAGs against the real SeaweedFS: seed article in, digest out."""

from __future__ import annotations

import json

import pytest

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import DagRuns, dagbag
from tests.support.sources import seed_documents


@pytest.fixture
def seeded(airflow_env: Settings) -> Settings:
    seed_documents(airflow_env, "seed-kamikawa.txt", "no-date-header.txt", source_id="seed-articles")
    return airflow_env


def test_ingest_then_digest_through_airflow(seed_runs: DagRuns) -> None:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    ingest, store = seed_runs.ingest, seed_runs.store
    assert ingest.state == "success"

    [article_key] = list(store.list_keys("articles/date=2024-01-07/"))
    article = json.loads(store.get_bytes(article_key))
    assert article_key == f"articles/date=2024-01-07/{article['id']}.json"
    assert article["title"] == (
        "Foreign Minister Yoko Kamikawa promised to continue Japan's support for Ukraine during her visit to Kyiv"
    )
    assert (article["source"], article["language"], article["schema_version"]) == ("seed-articles", "en", 1)
    assert article["published_at"].startswith("2024-01-07")
    assert article["text"].count("\n\n") >= 10 and "\n\nDetails\n\n" in article["text"]
    [quarantined] = list(store.list_keys("quarantine/"))
    assert "no `date YYYY-MM-DD` header" in json.loads(store.get_bytes(quarantined))["reason"]

    [report_key] = list(store.list_keys("runs/news_ingest/"))
    report = json.loads(store.get_bytes(report_key))
    assert (report["read"], report["stored"], report["quarantined"], report["failed_sources"]) == (2, 1, 1, [])

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_run_id == ingest.run_id).all()
        # one event for the run's one day stored, whichever shards stored it
        assert [e.partition_key for e in events] == ["2024-01-07"]

    digest = seed_runs.digest  # of 2024-01-07
    assert digest.state == "success"
    html = store.get_bytes("digests/2024-01-07/digest.html").decode()
    assert "Foreign Minister Yoko Kamikawa promised to continue" in html
    assert "Seed articles" in html
    assert store.get_bytes("digests/latest.html").decode() == html
    data = json.loads(store.get_bytes("digests/2024-01-07/digest.json"))
    assert data["counts"] == {"articles": 1, "sources": 1, "stories": 1, "languages": 1}
    assert data["stories"][0]["summary"].startswith("Foreign Minister Yoko Kamikawa promised")
    assert "# News digest for Sunday 7 January 2024" in store.get_bytes("digests/2024-01-07/digest.md").decode()
    assert store.etag("lake/articles/date=2024-01-07/part-0000.parquet") is not None


def test_a_run_of_one_shard_reports_its_source(airflow_db: None, seeded: Settings, store: ObjectStore) -> None:
    bag = dagbag()
    run = bag.dags["news_ingest"].test(run_conf={"sources": ["seed-articles"]})
    assert run.state == "success"
    [report_key] = list(store.list_keys("runs/news_ingest/"))
    report = json.loads(store.get_bytes(report_key))
    assert [s["source"] for s in report["sources"]] == ["seed-articles"]
    assert report["params"]["sources"] == ["seed-articles"]
