"""Airflow's real services (api-server, scheduler, dag-processor, triggerer) on free loopback ports."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.seaweed import read_credentials
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.support.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
BIN = Path(sys.executable).parent


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


@pytest.fixture(scope="session")
def services(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    home = tmp_path_factory.mktemp("airflow-services")
    bucket = "e2e-" + uuid.uuid4().hex[:8]
    settings = s3_server.model_copy(update={"bucket": bucket})
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    articles = home / "articles"
    articles.mkdir()
    shutil.copy(FIXTURES / "seed-kamikawa.txt", articles)
    (home / "sources.toml").write_text('[[sources]]\nid = "seed-articles"\nkind = "documents"\npath = "articles"\n')

    creds = read_credentials(settings.local_dir)
    assert creds is not None
    endpoint = f"http://127.0.0.1:{settings.s3_port}"
    api_port, log_port, trigger_log_port = free_ports(3)
    password = secrets.token_urlsafe(12)
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": password}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_", "AWS_"))}
    env |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
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
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_REGION": "us-east-1",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {
                "conn_type": "aws",
                "login": creds.access_key_id,
                "password": creds.secret_access_key.get_secret_value(),
                "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
            }
        ),
        "NEWS_BUCKET": bucket,
        "NEWS_SOURCES_FILE": str(home / "sources.toml"),
        "NEWS_LOCAL_DIR": str(home / "local"),
    }
    airflow = str(BIN / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([airflow, "pools", "set", "news_fetch", "4", "fetch"], env=env, check=True, capture_output=True)
    commands = {
        "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"],
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
    }
    processes = []
    for name, command in commands.items():
        log = (home / f"{name}.log").open("wb")
        processes.append(
            subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    running = Services(f"http://127.0.0.1:{api_port}", password, store, home)
    try:
        running.wait_for("the api-server", lambda: _healthy(running.base_url), timeout=120)
        yield running
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
