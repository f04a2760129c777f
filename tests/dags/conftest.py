"""A migrated Airflow metadata DB (SQLite in the session's temporary AIRFLOW_HOME)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.settings import Settings, get_settings

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.initdb()
    Pool.create_or_update_pool("news_fetch", slots=4, description="news fetch tasks", include_deferred=False)


def point_airflow_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the DAGs' settings and `aws_default` at `settings`' bucket and embedded SeaweedFS."""
    from pipeline.storage.credentials import read_credentials

    creds = read_credentials(settings.local_dir)
    assert creds is not None
    endpoint = f"http://127.0.0.1:{settings.s3_port}"
    connection = {
        "conn_type": "aws",
        "login": creds.access_key_id,
        "password": creds.secret_access_key.get_secret_value(),
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("NEWS_BUCKET", settings.bucket)
    monkeypatch.setenv("NEWS_SOURCES_FILE", str(settings.sources_file))
    monkeypatch.setenv("NEWS_LOCAL_DIR", str(settings.local_dir))
    monkeypatch.setenv("NEWS_S3_PORT", str(settings.s3_port))
    get_settings.cache_clear()


@pytest.fixture
def airflow_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The DAGs use this test's bucket on the session's SeaweedFS."""
    point_airflow_at(settings, monkeypatch)
    yield settings
    get_settings.cache_clear()
