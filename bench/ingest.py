"""Whole ingest runs: every stage over a workload, then the same run again against unchanged feeds, both at
stage level (shards on worker processes, as the fetch benchmark) and through Airflow (`dag.test()` of
news_ingest in a fresh Airflow home)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support

from pipeline import stages  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.storage.store import ObjectStore  # noqa: E402
from tests.support.airflow import aws_connection  # noqa: E402


def _ingest_shard(args: tuple[Settings, list[str], str]) -> list[dict[str, Any]]:
    """One shard through fetch, normalise, enrich and store, as one mapped task group does."""
    settings, source_ids, run_id = args
    store = ObjectStore.from_settings(settings)
    fetched = stages.fetch_sources(store, settings, source_ids, run_id)
    enriched = stages.enrich_sources(store, settings, stages.normalise_sources(store, settings, fetched))
    return [r.model_dump(mode="json") for r in stages.store_sources(store, settings, enriched)]


def _objects(store: ObjectStore, *prefixes: str) -> int:
    return sum(1 for prefix in prefixes for _ in store.list_keys(prefix))


def _counts(results: list[dict[str, Any]]) -> dict[str, int]:
    fields = ("read", "stored", "duplicates", "not_modified", "quarantined")
    return {field: sum(r[field] for r in results) for field in fields} | {
        "errors": sum(1 for r in results if r["error"])
    }


def bench_full_ingest(pool: ProcessPoolExecutor, base: Settings, runs: int = 3) -> dict[str, Any]:
    """First run stores everything; the re-run meets only 304s and must write no raw payload or article.
    Each of `runs` pairs in a fresh bucket; medians."""
    firsts, reruns, new_objects = [], [], []
    for run in range(runs):
        settings = base.model_copy(update={"bucket": f"{base.bucket}-{run}"})
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        shards = stages.plan_shards(settings)
        timings, outcomes, objects = [], [], []
        for name in ("first", "rerun"):
            start = time.perf_counter()
            jobs = [(settings, shard, f"ingest-{name}") for shard in shards]
            done = [r for shard in pool.map(_ingest_shard, jobs) for r in shard]
            timings.append(time.perf_counter() - start)
            outcomes.append(_counts(done))
            objects.append(_objects(store, "raw/", "articles/"))
        first, rerun = outcomes
        assert first["errors"] == 0 and first["read"] == first["stored"] + first["duplicates"] + first["quarantined"]
        assert rerun["not_modified"] == sum(len(s) for s in shards) and rerun["read"] == 0, rerun
        new_objects.append(objects[1] - objects[0])
        firsts.append(timings[0])
        reruns.append(timings[1])
    first_s, rerun_s = statistics.median(firsts), statistics.median(reruns)
    return {
        "sources": rerun["not_modified"],
        "articles": first["stored"],
        "runs": runs,
        "first_run_s": round(first_s, 2),
        "rerun_s": round(rerun_s, 2),
        "rerun_ratio": round(rerun_s / first_s, 3),
        "new_objects_in_rerun": max(new_objects),
        "goal": "re-run at most 10% of the first run, all 304, no new objects",
    }


_DAG_TEST = """
import json, sys, time
from airflow.models.pool import Pool
from airflow.utils import db
db.initdb()
Pool.create_or_update_pool("news_fetch", slots=4, description="news fetch tasks", include_deferred=False)
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["news_ingest"]
runs = []
for _ in range(2):
    start = time.perf_counter()
    run = dag.test()
    tis = run.get_task_instances()
    runs.append({"seconds": time.perf_counter() - start, "state": str(run.state), "tasks": len(tis),
                 "task_s": [[ti.task_id.rpartition(".")[2], ti.duration or 0.0] for ti in tis]})
print(json.dumps(runs))
"""


def bench_dag_test(base: Settings, runs: int = 3) -> dict[str, Any]:
    """`dag.test()` of news_ingest over the workload's sources, then again with every feed unchanged; each of
    `runs` pairs in a fresh bucket and Airflow home; medians."""
    connection = aws_connection(base)
    measured = []
    for run in range(runs):
        settings = base.model_copy(update={"bucket": f"{base.bucket}-{run}"})
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        with tempfile.TemporaryDirectory(prefix="news-bench-airflow-") as home:
            env = os.environ | {
                "AIRFLOW_HOME": home,
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
                "AIRFLOW_CONN_AWS_DEFAULT": connection,
                "NEWS_BUCKET": settings.bucket,
                "NEWS_SOURCES_FILE": str(settings.sources_file),
                "NEWS_LOCAL_DIR": str(settings.local_dir),
                "NEWS_S3_PORT": str(settings.s3_port),
                "NEWS_INBOX_PREFIX": "",
            }
            command = [sys.executable, "-c", _DAG_TEST, str(ROOT / "dags")]
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        first, rerun = json.loads(done.stdout.strip().splitlines()[-1])
        assert first["state"] == rerun["state"] == "success", (first, rerun)
        reports = [json.loads(store.get_bytes(k)) for k in store.list_keys("runs/news_ingest/")]
        initial, repeated = sorted(reports, key=lambda r: r["started_at"])
        assert repeated["stored"] == 0 and repeated["not_modified"] == len(repeated["sources"]), repeated
        measured.append((first, rerun, initial, repeated))
    first, _, initial, repeated = measured[0]
    return {
        "sources": len(initial["sources"]),
        "articles": initial["stored"],
        "tasks": first["tasks"],
        "runs": runs,
        "first_run_s": round(statistics.median(m[0]["seconds"] for m in measured), 1),
        "rerun_s": round(statistics.median(m[1]["seconds"] for m in measured), 1),
        "rerun_stored": repeated["stored"],
        "rerun_not_modified": repeated["not_modified"],
        "rerun_task_s": _task_seconds(measured[0][1]["task_s"]),
    }


def _task_seconds(durations: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds per task (mapped instances summed: dag.test() runs them one after another)."""
    totals: dict[str, float] = {}
    for task, seconds in durations:
        totals[task] = totals.get(task, 0.0) + seconds
    return {task: round(seconds, 1) for task, seconds in totals.items()}
