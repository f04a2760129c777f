"""Airflow's real services (api-server, scheduler, dag-processor, triggerer) on free loopback ports, and a browser."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.storage.credentials import read_credentials
from pipeline.storage.store import ObjectStore
from tests.support.browser import CHROMIUM, FLAGS
from tests.support.paths import DOCUMENTS
from tests.support.ports import free_ports
from tests.support.receivers import Inbox, smtp_server
from tests.support.services import Services, healthy, review_environment, services_environment


@pytest.fixture(scope="session")
def mail_server() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """The SMTP server the services send the digest and its alerts through, and its connection."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def mailbox(mail_server: tuple[Inbox, dict[str, Any]]) -> Inbox:
    return mail_server[0]


@pytest.fixture(scope="session")
def services(
    s3_server: Settings, mail_server: tuple[Inbox, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    home = tmp_path_factory.mktemp("airflow-services")
    bucket = "e2e-" + uuid.uuid4().hex[:8]
    settings = s3_server.model_copy(update={"bucket": bucket})
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    articles = home / "articles"
    articles.mkdir()
    shutil.copy(DOCUMENTS / "seed-kamikawa.txt", articles)
    (home / "sources.toml").write_text('[[sources]]\nid = "seed-articles"\nkind = "documents"\npath = "articles"\n')

    creds = read_credentials(settings.local_dir)
    assert creds is not None
    api_port, log_port, trigger_log_port = free_ports(3)
    password = secrets.token_urlsafe(12)
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": password}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_", "AWS_"))}
    env |= services_environment(home, settings, creds, api_port, log_port, trigger_log_port)
    env |= review_environment(json.dumps(mail_server[1]))
    airflow = str(Path(sys.executable).parent / "airflow")
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
        running.wait_for("the api-server", lambda: healthy(running.base_url), timeout=120)
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Playwright driving Debian's build), one per test module."""
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is needed: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
