"""Every DAG file imports cleanly, without side effects, and follows the project's conventions."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.support.airflow import DAGS, dagbag

EXPECTED = {"news_ingest", "news_digest", "news_day", "news_alerts"}


def test_dags_import_without_errors() -> None:
    bag = dagbag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED


def test_parsing_touches_neither_the_db_nor_a_connection_nor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy.engine

    from pipeline import settings

    calls: list[str] = []

    def refuse(what: str) -> Any:
        def _refuse(*args: object, **kwargs: object) -> None:
            calls.append(what)
            raise AssertionError(f"DAG parsing must not {what}")

        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("open a network connection"))
    monkeypatch.setattr(sqlalchemy.engine.Engine, "connect", refuse("connect to the metadata DB"))
    monkeypatch.setattr(settings.Settings, "__init__", refuse("read settings"))
    bag = dagbag()
    assert bag.import_errors == {}
    assert calls == []


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_conventions(dag_id: str) -> None:
    dag = dagbag().dags[dag_id]
    assert Path(dag.fileloc).stem == dag_id, "dag_id is the file stem"
    assert dag.tags and "news" in dag.tags
    assert dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_exponential_backoff, task.task_id
        assert task.execution_timeout is not None, f"{task.task_id}: no task may run forever"


def test_parsing_loads_no_heavy_library() -> None:
    """The dag-processor parses each file in a fresh process: what the DAG files import, it pays every time."""
    import os
    import subprocess
    import sys

    heavy = ["boto3", "lingua", "trafilatura", "pyarrow", "duckdb", "feedparser", "spacy", "lxml"]
    code = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag({str(DAGS)!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
