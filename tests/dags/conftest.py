"""A migrated Airflow metadata DB (SQLite in the session's AIRFLOW_HOME), the DAGs pointed at a bucket, and
the session's one run of both DAGs over the seed documents."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from pipeline.settings import Settings, get_settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import DagRuns, dagbag, point_airflow_at
from tests.support.processes import captured_output
from tests.support.s3 import new_bucket
from tests.support.sources import SEED_DAY, seed_documents


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.initdb()
    Pool.create_or_update_pool("news_fetch", slots=4, description="news fetch tasks", include_deferred=False)


@pytest.fixture
def airflow_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The DAGs use this test's bucket on the session's SeaweedFS."""
    point_airflow_at(settings, monkeypatch)
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def seed_runs(airflow_db: None, s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> DagRuns:
    """`dag.test()` of news_ingest over the seed article and an undated document, then of news_digest for the
    seed's day: once for the session, in a bucket of their own, which the tests read and never write."""
    settings = new_bucket(s3_server, tmp_path_factory.mktemp("seed-runs"))
    seed_documents(settings, "seed-kamikawa.txt", "no-date-header.txt", source_id="seed-articles")
    with pytest.MonkeyPatch.context() as monkeypatch, captured_output() as output:
        point_airflow_at(settings, monkeypatch)
        bag = dagbag()
        ingest = bag.dags["news_ingest"].test()
        digest = bag.dags["news_digest"].test(run_conf={"date": SEED_DAY.isoformat()})
    get_settings.cache_clear()
    sys.stdout.write(output.text)  # pytest shows it with the test that set this fixture up, should that fail
    return DagRuns(settings, ObjectStore.from_settings(settings), ingest, digest, output.text)
