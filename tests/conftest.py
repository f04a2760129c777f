"""Test session: a real SeaweedFS on free loopback ports and an isolated Airflow home."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.support.feedserver import FeedServer
from tests.support.paths import ROOT
from tests.support.ports import embedded_settings

# Airflow reads its configuration on first import, so the isolated home must exist before any test imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="news-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
    }
)
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)  # never let a developer's real credentials reach a test


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One real `weed mini` for the whole session."""
    settings = embedded_settings(tmp_path_factory.mktemp("s3"))
    server = EmbeddedS3(settings)
    server.up()
    yield settings
    server.down()


@pytest.fixture
def settings(s3_server: Settings, tmp_path: Path) -> Settings:
    """Settings for one test: its own bucket on the session server and its own sources file."""
    bucket = "t-" + uuid.uuid4().hex[:12]
    ObjectStore.from_settings(s3_server.model_copy(update={"bucket": bucket})).ensure_bucket()
    return s3_server.model_copy(update={"bucket": bucket, "sources_file": tmp_path / "sources.toml"})


@pytest.fixture
def store(settings: Settings) -> ObjectStore:
    return ObjectStore.from_settings(settings)


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[tuple[Settings, EmbeddedS3]]:
    """A SeaweedFS of this test's own (so it can be killed), with a bucket and a sources file."""
    settings = embedded_settings(tmp_path / "s3").model_copy(update={"sources_file": tmp_path / "sources.toml"})
    server = EmbeddedS3(settings)
    server.up()
    ObjectStore.from_settings(settings).ensure_bucket()
    try:
        yield settings, server
    finally:
        server.down()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
