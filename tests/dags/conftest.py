"""A migrated Airflow metadata DB (SQLite in the session's temporary AIRFLOW_HOME), and the DAGs pointed at a bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.settings import Settings, get_settings
from tests.support.airflow import point_airflow_at


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
