"""`make bench`: the pipeline's fetch stage side by side with a sequential feedparser loop and the floor.

Everything runs on this machine in one go, so the ratios compare like with like. Results go to
bench/results.json and docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feed_server import feed_body  # noqa: E402

from pipeline.collect import collect_sources  # noqa: E402
from pipeline.models import Source  # noqa: E402
from pipeline.parse import parse_feed  # noqa: E402
from pipeline.seaweed import EmbeddedS3, free_ports, on_free_ports  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.sources import Registry  # noqa: E402
from pipeline.storage import ObjectStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOSTS = 250  # 500 feeds on 250 loopback hosts: two feeds a host, as with real publishers
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WORKLOADS = {
    "latency-bound": {"feeds": 500, "items": 5, "delay_ms": 200, "goal": "at least 20x faster than the loop"},
    "parse-bound": {"feeds": 500, "items": 50, "delay_ms": 100, "goal": "within 1.5x of the floor"},
}


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def start_server(feeds: int, items: int, delay_ms: int) -> tuple[subprocess.Popen[str], int]:
    port = free_ports(1)[0]
    args = [sys.executable, str(Path(__file__).with_name("feed_server.py"))]
    proc = subprocess.Popen([*args, *map(str, (feeds, items, delay_ms, HOSTS, port))], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def _parse_keys(args: tuple[Settings, list[str], Source]) -> int:
    """One worker's share of the parse: what a normalise task does with its shard's payloads."""
    settings, keys, source = args
    store = ObjectStore.from_settings(settings)
    count = 0
    for key in keys:
        raw = store.get_object(key)
        count += len(parse_feed(raw.data, source, key, _NOW, {"content-type": raw.content_type}).items)
    return count


_NOW = __import__("datetime").datetime.now(__import__("datetime").UTC)


def run_pipeline(settings: Settings, sources: list[Source], run_id: str, cores: int) -> dict[str, Any]:
    store = ObjectStore.from_settings(settings)
    registry = Registry(Path("bench"), tuple(sources))
    start = time.perf_counter()
    results = collect_sources(store, settings, registry, sources, run_id, force=False)
    fetched = time.perf_counter()
    keys = [k for r in results for k in r.raw_keys]
    shares = [(settings, keys[i::cores], sources[0]) for i in range(cores)]
    with ProcessPoolExecutor(cores) as pool:
        items = sum(pool.map(_parse_keys, shares))
    done = time.perf_counter()
    errors = [r.error for r in results if r.error]
    return {"fetch_s": fetched - start, "total_s": done - start, "items": items, "errors": errors[:3]}


def bench_workload(name: str, spec: dict[str, Any], base: Settings, cores: int) -> dict[str, Any]:
    feeds, items, delay_ms = spec["feeds"], spec["items"], spec["delay_ms"]
    server, port = start_server(feeds, items, delay_ms)
    try:
        urls = [f"http://127.0.1.{n % HOSTS + 1}:{port}/feed/{n}" for n in range(feeds)]
        sources = [
            Source.model_validate({"id": f"feed-{n}", "kind": "feed", "url": url, "allow_private_network": True})
            for n, url in enumerate(urls)
        ]
        print(f"[{name}] sequential feedparser.parse(url) loop over {feeds} feeds ...", flush=True)
        loop_s = timed(lambda: [feedparser.parse(u) for u in urls])

        bodies = [feed_body(n, items) for n in range(feeds)]
        cpu_start = time.process_time()
        for body in bodies:
            feedparser.parse(body)
        parse_cpu = time.process_time() - cpu_start
        floor_s = delay_ms / 1000 + parse_cpu / cores

        runs = []
        for run in range(RUNS):
            bucket = f"bench-{name}-{run}"
            settings = base.model_copy(update={"bucket": bucket})
            ObjectStore.from_settings(settings).ensure_bucket()
            print(f"[{name}] pipeline run {run + 1}/{RUNS} ...", flush=True)
            runs.append(run_pipeline(settings, sources, f"bench-{run}", cores))
        first = runs[-1]
        assert not first["errors"], first["errors"]
        assert first["items"] == feeds * items, first
        rerun_s = timed(
            lambda: collect_sources(
                ObjectStore.from_settings(settings), settings, Registry(Path("bench"), tuple(sources)), sources, "re", False
            )
        )
        ours = statistics.median(r["total_s"] for r in runs)
        return {
            "feeds": feeds,
            "items_per_feed": items,
            "delay_ms": delay_ms,
            "goal": spec["goal"],
            "loop_s": round(loop_s, 2),
            "parse_cpu_s": round(parse_cpu, 2),
            "floor_s": round(floor_s, 2),
            "pipeline_runs_s": [round(r["total_s"], 2) for r in runs],
            "pipeline_fetch_s": round(statistics.median(r["fetch_s"] for r in runs), 2),
            "pipeline_s": round(ours, 2),
            "speedup_vs_loop": round(loop_s / ours, 1),
            "ratio_to_floor": round(ours / floor_s, 2),
            "conditional_rerun_s": round(rerun_s, 2),
            "conditional_rerun_ratio": round(rerun_s / statistics.median(r["fetch_s"] for r in runs), 2),
        }
    finally:
        server.terminate()
        server.wait()


def write_markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {results['cores']} cores ({results['machine']}); medians of "
        f"{results['runs']} pipeline runs, each baseline measured in the same run. Raw numbers: `bench/results.json`.",
        "",
        "## Fetch: the pipeline's fetch stage + parse, against a sequential `feedparser.parse(url)` loop and the floor",
        "",
        "500 feeds on 250 loopback hosts (two per host, default politeness: 2 connections and 0.5 s between "
        "requests per host), each response sent after a fixed delay. The pipeline fetches all feeds concurrently "
        "and archives each payload in SeaweedFS (the fetch stage), then parses them on every core (the normalise "
        "stage's share). Floor = slowest response + total feedparser CPU time / cores.",
        "",
        "| workload | loop | floor | pipeline (fetch part) | vs loop | vs floor | goal | conditional re-run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, w in results["workloads"].items():
        lines.append(
            f"| {name}: {w['feeds']} × {w['items_per_feed']} items, {w['delay_ms']} ms | {w['loop_s']} s | "
            f"{w['floor_s']} s | {w['pipeline_s']} s ({w['pipeline_fetch_s']} s) | {w['speedup_vs_loop']}× faster | "
            f"{w['ratio_to_floor']}× | {w['goal']} | {w['conditional_rerun_s']} s, all 304 "
            f"({w['conditional_rerun_ratio']:.0%} of the first fetch) |"
        )
    lines += ["", f"Peak RSS of the benchmark process: {results['peak_rss_mb']} MB.", ""]
    return "\n".join(lines)


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp:
        settings = on_free_ports(Settings(), Path(tmp))
        server = EmbeddedS3(settings)
        server.up()
        try:
            workloads = {name: bench_workload(name, spec, settings, cores) for name, spec in WORKLOADS.items()}
        finally:
            server.down()
    results = {
        "cores": cores,
        "machine": f"{os.uname().sysname} {os.uname().machine}, Python {sys.version.split()[0]}",
        "runs": RUNS,
        "workloads": workloads,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text(write_markdown(results))
    print(write_markdown(results))


if __name__ == "__main__":
    main()
