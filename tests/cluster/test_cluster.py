"""The multi-node deployment, run: PostgreSQL, Redis, a SeaweedFS cluster and Celery workers on this machine.

The cluster (`docker/news_cluster.py`) runs in a temporary folder and is stopped afterwards, also on failure;
news_ingest is triggered through the REST API over feeds on several loopback hosts, then again while a worker and a
volume server are killed."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.support.cluster import Cluster, feeds_environment, running_cluster, serve_feeds
from tests.support.feedserver import FeedServer
from tests.support.sources import accounted, stored_once

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.cluster]

FEEDS, ITEMS, HOSTS = 100, 3, 4  # per run: 300 articles from 100 feeds on 4 publishers (4 shards)
FAILOVER = 30  # seconds of silence before a lost worker's task is retried (in production: 60)
DIGEST = "digests/2024-03-04/digest.html"


@pytest.mark.timeout(1800)
def test_a_run_spreads_over_both_workers_and_survives_losing_one_and_a_volume_server() -> None:
    assert shutil.which("redis-server"), "the cluster needs Debian's redis-server: `make test-cluster` installs it"
    started = time.monotonic()
    # Not under pytest's tmp_path: the database's own user must reach its folder, and pytest's is closed to others.
    tmp_path = Path(tempfile.mkdtemp(prefix="news-cluster-"))
    tmp_path.chmod(0o711)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp_path, ignore_errors=True)
        servers = [stack.enter_context(FeedServer(f"127.0.9.{n}")) for n in range(1, HOSTS + 1)]
        sources = tmp_path / "sources.toml"
        sources.write_text("")  # for the run of the latest past schedule, which starts with the scheduler
        env = feeds_environment(tmp_path, sources, HOSTS)
        home = tmp_path / "cluster"
        # The second run's feeds answer only once the test has seen its fetch tasks running: then it strikes.
        env |= {"NEWS_FETCH_TIMEOUT": "600", "NEWS_FETCH_READ_TIMEOUT": "600"}
        held = threading.Event()
        stack.callback(held.set)
        running = stack.enter_context(running_cluster(home, env, failover=FAILOVER))
        print(f"cluster up: {time.monotonic() - started:.0f} s")
        running.settle()
        feeds = serve_feeds(servers, "a", FEEDS, ITEMS) + serve_feeds(servers, "b", FEEDS, ITEMS, held)
        sources.write_text("\n".join(feeds))
        pids = {p.stem: int(p.read_text()) for p in (home / "run").glob("*.pid")}
        ports = json.loads((home / "cluster.json").read_text())["ports"].values()
        _first_run(running, [f"a{n}" for n in range(FEEDS)])
        print(f"first run and its digest: {time.monotonic() - started:.0f} s")
        _second_run_losing_a_worker_and_a_volume_server(running, [f"b{n}" for n in range(FEEDS)], held)
        print(f"second run: {time.monotonic() - started:.0f} s")
    # Stopped through the pid files: no process left, no pid file, no port taken.
    assert len(pids) == 14 and not list((home / "run").glob("*.pid"))
    assert not [
        name for name, pid in pids.items() if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
    ]
    listening = {c.laddr.port for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
    assert not listening & {port for p in ports for port in (p, p + 10000)}


def _first_run(running: Cluster, sources: list[str]) -> None:
    run_id, report = running.ingest(sources)
    accounted(report)
    assert (report.read, report.stored, report.duplicates, report.failed_sources) == (FEEDS * ITEMS,) * 2 + (0, [])
    instances = running.task_instances(run_id)
    assert {ti["hostname"] for ti in instances} == {"airflow-worker-fetch", "airflow-worker-enrich"}
    fetches = [ti for ti in instances if ti["task_id"] == "ingest_shard.fetch_sources"]
    enriches = [ti for ti in instances if ti["task_id"] == "ingest_shard.enrich_sources"]
    assert len(fetches) == len(enriches) == HOSTS
    assert {ti["queue"] for ti in fetches} == {"fetch"} and {ti["queue"] for ti in enriches} == {"enrich"}
    assert {ti["hostname"] for ti in enriches} == {"airflow-worker-enrich"}  # the one worker reading that queue
    assert len(stored_once(running.services.store)) == FEEDS * ITEMS

    def digest_published() -> bool:
        triggered = [r for r in running.runs("news_digest") if r["run_type"] == "asset_triggered"]
        return any(r["state"] == "success" for r in triggered) and bool(running.services.store.etag(DIGEST))

    running.services.wait_for("the asset-triggered news_digest run", digest_published)


def _second_run_losing_a_worker_and_a_volume_server(
    running: Cluster, sources: list[str], held: threading.Event
) -> None:
    run_id = running.trigger(sources)
    # Every shard's fetch task running, each waiting for its feeds: the enrich worker has two processes, so at
    # least two of the four run on the fetch worker; nothing else of this run has started.
    deadline, fetching = time.monotonic() + 300, []
    while len(fetching) < HOSTS:
        time.sleep(1)
        instances = running.task_instances(run_id)
        fetching = [
            ti for ti in instances if ti["task_id"] == "ingest_shard.fetch_sources" and ti["state"] == "running"
        ]
        seen = sorted((ti["task_id"], ti["map_index"], ti["state"], ti["hostname"], ti["queue"]) for ti in instances)
        assert time.monotonic() < deadline, f"the second run's fetch tasks did not all start: {seen}"
    busy = [ti for ti in fetching if ti["hostname"] == "airflow-worker-fetch"]
    assert busy and {ti["queue"] for ti in fetching} == {"fetch"}, seen
    # Its machine lost, and one of the three volume servers: SIGKILL, nothing shut down cleanly.
    running.kill("airflow-worker-fetch")
    running.kill("seaweedfs-volume-1")
    held.set()
    running.wait(run_id, timeout=720)
    report = running.report(run_id)
    accounted(report)
    assert (report.read, report.stored, report.duplicates, report.failed_sources) == (FEEDS * ITEMS,) * 2 + (0, [])
    assert len(stored_once(running.services.store)) == 2 * FEEDS * ITEMS  # the first run's still read back
    for ti in busy:  # what the lost worker was running ran again, and succeeded, on the other one
        tries = running.tries(run_id, ti["task_id"], ti["map_index"])
        assert tries[0]["hostname"] == "airflow-worker-fetch" and tries[-1]["hostname"] == "airflow-worker-enrich", (
            tries
        )
        assert tries[-1]["state"] == "success"
    print(f"retried on airflow-worker-enrich: {len(busy)} fetch tasks of {HOSTS}")
