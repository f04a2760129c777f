"""Airflow's real services for the end-to-end tests: their environment, and the REST API as a test drives it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pipeline.seaweed import Credentials
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import airflow_environment, aws_connection


def services_environment(
    home: Path, settings: Settings, creds: Credentials, api_port: int, log_port: int, trigger_log_port: int
) -> dict[str, str]:
    """What the api-server, scheduler, dag-processor and triggerer need beyond the session's environment."""
    return airflow_environment(home, parallelism=4) | {
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key.get_secret_value(),
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{settings.s3_port}",
        "AWS_REGION": "us-east-1",
        "AIRFLOW_CONN_AWS_DEFAULT": aws_connection(settings),
        "NEWS_BUCKET": settings.bucket,
        "NEWS_SOURCES_FILE": str(home / "sources.toml"),
        "NEWS_LOCAL_DIR": str(home / "local"),
        # Runs only when a test starts them: an hourly run could take what a test is waiting for.
        "NEWS_INGEST_CRON": "0 0 1 1 *",
        "NEWS_WEBSUB_CALLBACK_URL": f"http://127.0.0.1:{api_port}/news-websub/callback",
    }


REVIEW_DEADLINE = 40  # seconds: a held review outlasts it; other tests start runs without a logical date


def review_environment(smtp_connection: str) -> dict[str, str]:
    """The e-mailed digest through this SMTP server, held for review, and a deadline a test can see pass."""
    return {
        "AIRFLOW_CONN_NEWS_SMTP": smtp_connection,
        "NEWS_SMTP_CONN_ID": "news_smtp",
        "NEWS_DIGEST_EMAIL_FROM": "digest@news.test",
        "NEWS_DIGEST_EMAIL_TO": '["editors@news.test"]',
        "NEWS_DIGEST_REVIEW": "true",
        "NEWS_DIGEST_DEADLINE": f"PT{REVIEW_DEADLINE}S",
    }


@dataclass
class Services:
    base_url: str
    password: str
    store: ObjectStore
    home: Path

    def token(self) -> str:
        response = httpx.post(f"{self.base_url}/auth/token", json={"username": "admin", "password": self.password})
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def wait_for(self, what: str, check: Any, timeout: float = 240) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(2)
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.home.glob("*.log")))
        raise AssertionError(f"timed out waiting for {what}\n{logs}")


def healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def dag_ready(services: Services, dag_id: str) -> bool:
    response = services.api("GET", f"/dags/{dag_id}")
    return response.status_code == 200 and not response.json()["is_paused"]


def runs(services: Services, dag_id: str) -> list[dict[str, Any]]:
    response = services.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 20})
    response.raise_for_status()
    return list(response.json()["dag_runs"])


def run_state(services: Services, dag_id: str, run_id: str) -> str | None:
    state = str(services.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"])
    if state == "failed":
        raise AssertionError(f"{dag_id} run {run_id} failed")
    return state if state == "success" else None
