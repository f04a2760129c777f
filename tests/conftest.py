"""Test session: a real SeaweedFS on free loopback ports and an isolated Airflow home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import isolate_airflow
from tests.support.feedserver import FeedServer
from tests.support.s3 import embedded_settings, new_bucket


def pytest_configure(config: pytest.Config) -> None:
    isolate_airflow()  # before any test module is imported, as Airflow reads its configuration on first import
    # Tests run the next run at once: every source is due every run, unless a test schedules polls itself.
    os.environ["NEWS_POLL_MAX_INTERVAL"] = "0"


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
    return new_bucket(s3_server, tmp_path)


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
