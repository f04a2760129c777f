"""The multi-node cluster of docker/news_cluster.py for tests and benchmarks: started in a folder of its own, fed
by feeds on several loopback hosts, driven through the REST API, and always stopped again."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from pipeline.models import RunReport
from pipeline.storage.keys import run_key
from pipeline.storage.store import ObjectStore, S3Config
from tests.support.articles import load_cases
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import ROOT
from tests.support.rss import rss, rss_item
from tests.support.services import Services

LAUNCHER = ROOT / "docker" / "news_cluster.py"
FEED_DAY = "Mon, 04 Mar 2024"  # every item's day: one digest to wait for
# Runs start only when a test or benchmark triggers them; feeds on loopback; every source due every run.
QUIET = {
    "NEWS_INGEST_CRON": "0 0 1 1 *",
    "NEWS_DIGEST_CRON": "0 0 1 1 *",
    "NEWS_POLL_MAX_INTERVAL": "0",
}


@dataclass
class Cluster:
    home: Path
    services: Services  # the api-server, the admin's password and the cluster's bucket
    _token: str = ""

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call with one token for the cluster's life; a busy api-server gets a few chances to answer."""
        for attempt in range(4):
            try:
                self._token = self._token or self.services.token()
                headers = {"Authorization": f"Bearer {self._token}"}
                url = f"{self.services.base_url}/api/v2{path}"
                return httpx.request(method, url, headers=headers, timeout=60, **kwargs)
            except httpx.TransportError:
                if attempt == 3:
                    raise
                time.sleep(5)
        raise AssertionError("unreachable")

    def settle(self) -> None:
        """Wait for the run the scheduler starts on its own for news_ingest's latest past schedule to end."""

        def ended() -> bool:
            scheduled = [r for r in self.runs("news_ingest") if r["run_type"] == "scheduled"]
            return bool(scheduled) and all(r["state"] in ("success", "failed") for r in scheduled)

        self.services.wait_for("news_ingest's scheduled run", ended, timeout=600)

    def dag_ready(self, dag_id: str) -> bool:
        response = self.api("GET", f"/dags/{dag_id}")
        return response.status_code == 200 and not response.json()["is_paused"]

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        response = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 20})
        response.raise_for_status()
        return list(response.json()["dag_runs"])

    def launcher(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(LAUNCHER), *args, "--dir", str(self.home)]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)

    def kill(self, name: str) -> None:
        """SIGKILL one of the cluster's processes and its whole session (as in run/NAME.pid)."""
        done = self.launcher("kill", name)
        assert done.returncode == 0, done.stderr

    def ingest(self, sources: list[str], timeout: float = 720) -> tuple[str, RunReport]:
        """Trigger news_ingest for `sources` through the REST API, wait for success; its run id and report."""
        run_id = self.trigger(sources)
        self.wait(run_id, timeout)
        return run_id, self.report(run_id)

    def trigger(self, sources: list[str]) -> str:
        conf = {"sources": sources, "force_refetch": False}
        response = self.api("POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": conf})
        assert response.status_code == 200, response.text
        return str(response.json()["dag_run_id"])

    def wait(self, run_id: str, timeout: float = 720) -> None:
        def succeeded() -> bool:
            state = self.api("GET", f"/dags/news_ingest/dagRuns/{run_id}").json()["state"]
            assert state != "failed", f"news_ingest {run_id} failed"
            return bool(state == "success")

        self.services.wait_for(f"news_ingest {run_id}", succeeded, timeout)

    def report(self, run_id: str) -> RunReport:
        return RunReport.model_validate_json(self.services.store.get_bytes(run_key("news_ingest", run_id)))

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        response = self.services.api("GET", f"/dags/news_ingest/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        response.raise_for_status()
        return list(response.json()["task_instances"])

    def log_tails(self, lines: int = 15) -> str:
        """The end of every process's log: what a failed test shows."""
        logs = sorted((self.home / "run").glob("*.log"))
        tails = (f"== {log.stem}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) for log in logs)
        return "\n".join(tails)

    def tries(self, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
        path = f"/dags/news_ingest/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        response = self.api("GET", path)
        response.raise_for_status()
        return list(response.json()["task_instances"])


@contextmanager
def running_cluster(
    home: Path, env: dict[str, str], workers: str = "fetch,enrich", failover: int | None = None
) -> Iterator[Cluster]:
    """`news_cluster.py up` in `home` with these NEWS_* settings (and `failover` seconds before a lost worker's
    task is retried); `down` afterwards, whatever happened, with the logs' ends printed on failure."""
    command = [sys.executable, str(LAUNCHER), "--dir", str(home), "--workers", workers]
    environment = os.environ | QUIET | env
    up_args = ["up", *(["--failover", str(failover)] if failover else [])]
    cluster: Cluster | None = None
    # Stops the cluster should this process be killed before its `finally` runs.
    guard = subprocess.Popen(
        [*command, "guard"],
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        up = subprocess.run([*command, *up_args], env=environment, capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        settings = dict(line.split("=", 1) for line in (home / ".env").read_text().splitlines() if line[0] != "#")
        secret = SecretStr(settings["AWS_SECRET_ACCESS_KEY"])
        config = S3Config(
            settings["AWS_ENDPOINT_URL_S3"], settings["AWS_ACCESS_KEY_ID"], secret, settings["AWS_REGION"]
        )
        store = ObjectStore.from_config(config, settings["NEWS_BUCKET"])
        api = json.loads((home / "cluster.json").read_text())["ports"]["api"]
        services = Services(f"http://127.0.0.1:{api}", settings["AIRFLOW_ADMIN_PASSWORD"], store, home / "run")
        cluster = Cluster(home, services)
        for dag_id in ("news_ingest", "news_digest"):
            services.wait_for(f"{dag_id} to be parsed and unpaused", lambda d=dag_id: cluster.dag_ready(d))
        yield cluster
    except BaseException:
        if cluster is not None:
            print(cluster.log_tails())
        raise
    finally:
        down = subprocess.run([*command, "down"], env=environment, capture_output=True, text=True, timeout=300)
        assert guard.stdin is not None
        guard.stdin.close()
        guard.wait(300)
        assert down.returncode == 0, down.stderr


def feeds_environment(folder: Path, sources: Path, hosts: int) -> dict[str, str]:
    """The settings of a run over feeds on `hosts` loopback publishers: a shard each, no politeness delay."""
    return {
        "NEWS_SOURCES_FILE": str(sources),
        "NEWS_LOCAL_DIR": str(folder / "local"),
        "NEWS_MAX_SHARDS": str(hosts),
        # Loopback publishers: politeness per host would only measure its delay.
        "NEWS_FETCH_PER_HOST_CONCURRENCY": "8",
        "NEWS_FETCH_PER_HOST_DELAY": "0",
    }


def serve_feeds(
    servers: list[FeedServer], prefix: str, count: int, items: int, held: threading.Event | None = None
) -> list[str]:
    """`count` RSS feeds of `items` distinct items each, spread over the servers (hosts); their sources.toml
    entries. With `held`, each answer's body waits until it is set: fetch tasks stay running until then."""
    words = sorted({w.strip(".,;:\"'“”«»()") for c in load_cases() for w in c["text"].split()} - {""})
    words = [w for w in words if w.isalpha()]
    entries = []
    for n in range(count):
        rng = random.Random(f"{prefix}{n}")  # repeatable, and different for every feed
        server = servers[n % len(servers)]
        body = rss(
            f"{prefix} {n}",
            [
                rss_item(
                    " ".join(rng.choices(words, k=9)),
                    f"https://{prefix}{n}.example/{i}",
                    " ".join(rng.choices(words, k=60)) + ".",
                    f"{FEED_DAY} {i % 24:02d}:00:00 GMT",
                )
                for i in range(items)
            ],
        )
        headers = {"Content-Type": "application/rss+xml"}
        server.routes[f"/{prefix}{n}.xml"] = Route(body=_after(held, body) if held else body, headers=headers)
        entries.append(
            f'[[sources]]\nid = "{prefix}{n}"\nkind = "feed"\nurl = "{server.url(f"/{prefix}{n}.xml")}"\n'
            "allow_private_network = true\n"
        )
    return entries


def _after(held: threading.Event, body: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        held.wait(600)
        yield body

    return chunks
