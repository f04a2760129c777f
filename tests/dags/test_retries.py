"""Retries say why: the DAGs' retry policy retries what can clear up (timeouts, 5xx, throttling, a store that
is down) and fails at once what cannot (bad configuration, bad input, a missing bucket, refused credentials)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import (
    ConfigError,
    ObjectNotFound,
    PermanentError,
    PreconditionFailed,
    StorageError,
    TransientError,
    TransientStorageError,
)
from pipeline.fetch import HttpStatusError
from pipeline.settings import Settings
from pipeline.sources.registry import RegistryError
from tests.support.airflow import dagbag
from tests.support.paths import ROOT


@pytest.fixture
def retry_policy(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(ROOT / "plugins"))
    from news_airflow import RETRY_POLICY

    return RETRY_POLICY


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (TransientError("feed timed out"), "retry"),
        (HttpStatusError("503 from the feed", 503), "retry"),
        (TransientStorageError("S3 endpoint unreachable"), "retry"),
        (PreconditionFailed("lost a conditional write"), "retry"),
        (TimeoutError("read timed out"), "retry"),
        (ConnectionError("connection reset"), "retry"),
        (ConfigError("invalid settings"), "fail"),
        (RegistryError("sources.toml: not valid TOML"), "fail"),
        (PermanentError("not a feed"), "fail"),
        (ObjectNotFound("S3 head bucket 'news' failed: NoSuchBucket"), "fail"),
        (StorageError("S3 put failed: AccessDenied"), "fail"),
        (KeyError("a bug"), "default"),  # the task's plain retries
    ],
)
def test_the_policy_sorts_errors(retry_policy: Any, error: Exception, action: str) -> None:
    decision = retry_policy.evaluate(error, try_number=1, max_tries=4)
    assert decision.action.value == action


@pytest.mark.parametrize("dag_id", ["news_ingest", "news_digest", "news_day"])
def test_every_task_has_the_policy(retry_policy: Any, dag_id: str) -> None:
    for task in dagbag().dags[dag_id].tasks:
        assert task.retry_policy is retry_policy, task.task_id


def test_a_configuration_error_fails_without_a_retry(airflow_db: None, airflow_env: Settings) -> None:
    airflow_env.sources_file.write_text("[[sources]\nid = ")  # not TOML
    run = dagbag().dags["news_ingest"].test()
    assert run.state == "failed"
    plan = next(ti for ti in run.get_task_instances() if ti.task_id == "plan_sources")
    assert plan.state == "failed"
    assert (plan.try_number, plan.max_tries) == (1, 3), "three retries allowed, none taken"


def test_a_missing_bucket_fails_without_a_retry(
    airflow_db: None, airflow_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.settings import get_settings

    airflow_env.sources_file.write_text('[[sources]]\nid = "docs"\nkind = "documents"\npath = "docs"\n')
    (airflow_env.sources_file.parent / "docs").mkdir()
    monkeypatch.setenv("NEWS_BUCKET", "no-such-bucket")
    get_settings.cache_clear()
    run = dagbag().dags["news_digest"].test(run_conf={"date": "2024-01-07"})
    assert run.state == "failed"
    failed = {ti.task_id: ti.try_number for ti in run.get_task_instances() if ti.state == "failed"}
    assert failed and set(failed.values()) == {1}, failed
