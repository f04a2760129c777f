"""Airflow of the tests' own: its environment and home, the aws_default connection, and the DAGs."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings, get_settings
from pipeline.storage.credentials import read_credentials
from pipeline.storage.store import ObjectStore
from tests.support.paths import ROOT

DAGS = ROOT / "dags"


def airflow_environment(home: Path, parallelism: int) -> dict[str, str]:
    """Airflow on one machine: this home, a SQLite metadata DB in it, this repository's DAGs and plugins."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
    }


def isolate_airflow() -> Path:
    """Give this process's Airflow a new temporary home, and keep a developer's real AWS credentials out.

    Airflow reads its configuration on first import: call this before anything imports it.
    """
    home = Path(tempfile.mkdtemp(prefix="news-airflow-"))
    os.environ.update(airflow_environment(home, parallelism=2) | {"AIRFLOW__CORE__UNIT_TEST_MODE": "False"})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    return home


def aws_connection(settings: Settings) -> str:
    """`aws_default` as AIRFLOW_CONN_AWS_DEFAULT wants it: the embedded SeaweedFS of `settings`, with its keys."""
    creds = read_credentials(settings.local_dir)
    assert creds is not None
    connection = {
        "conn_type": "aws",
        "login": creds.access_key_id,
        "password": creds.secret_access_key.get_secret_value(),
        "extra": {"endpoint_url": f"http://127.0.0.1:{settings.s3_port}", "region_name": "us-east-1"},
    }
    return json.dumps(connection)


def point_airflow_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the DAGs' settings and `aws_default` at `settings`' bucket and embedded SeaweedFS."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection(settings))
    monkeypatch.setenv("NEWS_BUCKET", settings.bucket)
    monkeypatch.setenv("NEWS_SOURCES_FILE", str(settings.sources_file))
    monkeypatch.setenv("NEWS_LOCAL_DIR", str(settings.local_dir))
    monkeypatch.setenv("NEWS_S3_PORT", str(settings.s3_port))
    get_settings.cache_clear()


def dagbag() -> Any:
    """The DAGs folder, parsed (imports Airflow: call it inside a test)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@dataclass(frozen=True)
class DagRuns:
    """Runs of news_ingest and then news_digest that have happened, and what they left behind."""

    settings: Settings  # the bucket and sources file they ran with
    store: ObjectStore  # that bucket
    ingest: Any  # the DagRun of news_ingest
    digest: Any  # the DagRun of news_digest
    output: str  # what they wrote to stdout and stderr, the task logs included
