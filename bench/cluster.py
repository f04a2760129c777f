"""The multi-node deployment on this machine: articles per minute through news_ingest with one Celery worker (all
queues) and with two (fetch and enrich), the same workload on a new cluster each time.

`python bench/run.py cluster` (or `python bench/cluster.py`, which prints JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cluster import feeds_environment, running_cluster, serve_feeds  # noqa: E402
from tests.support.feedserver import FeedServer  # noqa: E402

FEEDS, ITEMS, HOSTS = 100, 5, 4  # 500 articles from 100 feeds on 4 publishers: 4 shards
SETUPS = {"one worker": "all", "two workers": "fetch,enrich"}


def _measure(workers: str) -> dict[str, Any]:
    """A new cluster with these workers; one news_ingest run over the workload, timed from trigger to success."""
    home = Path(tempfile.mkdtemp(prefix="news-bench-cluster-"))
    home.chmod(0o711)  # the database's own user reaches its folder
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        servers = [stack.enter_context(FeedServer(f"127.0.8.{n}")) for n in range(1, HOSTS + 1)]
        sources = home / "sources.toml"
        sources.write_text("")  # for the run of the latest past schedule, which starts with the scheduler
        env = feeds_environment(home, sources, HOSTS)
        started = time.monotonic()
        cluster = stack.enter_context(running_cluster(home / "cluster", env, workers))
        up_s = time.monotonic() - started
        cluster.settle()
        sources.write_text("\n".join(serve_feeds(servers, "f", FEEDS, ITEMS)))
        started = time.monotonic()
        run_id, report = cluster.ingest([f"f{n}" for n in range(FEEDS)], timeout=900)
        seconds = time.monotonic() - started
        hosts = sorted({ti["hostname"] for ti in cluster.task_instances(run_id)})
    return {
        "workers": hosts,
        "stored": report.stored,
        "run_s": round(seconds, 1),
        "articles_per_min": round(report.stored / seconds * 60),
        "cluster_up_s": round(up_s),
    }


def _interrupted(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def bench_cluster() -> dict[str, Any]:
    """Both setups. A failure or SIGTERM stops the cluster in `running_cluster`'s `finally`; a SIGKILL, through
    the guard it starts (`news_cluster.py guard`), which ends every process by its pid file."""
    results: dict[str, Any] = {"feeds": FEEDS, "items": ITEMS, "hosts": HOSTS, "cores": os.cpu_count() or 1}
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        for name, workers in SETUPS.items():
            results[name] = _measure(workers)
    finally:
        signal.signal(signal.SIGTERM, previous)
    one, two = results["one worker"], results["two workers"]
    results["speedup"] = round(two["articles_per_min"] / one["articles_per_min"], 2)
    return results


def markdown(r: dict[str, Any]) -> list[str]:
    rows = [
        f"| {name} ({', '.join(r[name]['workers'])}) | {r[name]['stored']} | {r[name]['run_s']} s | "
        f"{r[name]['articles_per_min']} | {r[name]['cluster_up_s']} s |"
        for name in SETUPS
    ]
    return [
        "## Cluster: one Celery worker against two",
        "",
        f"`make cluster-up`'s deployment (PostgreSQL, Redis, SeaweedFS with three volume servers and replication "
        f"001, CeleryExecutor), a new cluster for each row: one news_ingest run triggered through the REST API over "
        f"{r['feeds']} feeds of {r['items']} new items on {r['hosts']} loopback publishers ({r['hosts']} shards), "
        "timed from the trigger to the run's success. One worker takes every queue with 4 processes; two are the "
        "fetch worker (fetch and default queues, 4 processes) and the enrich worker (enrich, default and fetch, 2).",
        "",
        "| workers | articles stored | run | articles per minute | cluster start |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Two workers against one: {r['speedup']}x, on the same {r['cores']} cores. Workers on one machine "
        "share its cores, so the second worker adds processes, not CPU; on separate machines each brings its own.",
    ]


if __name__ == "__main__":
    print(json.dumps(bench_cluster()))
