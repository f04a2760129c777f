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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enrich import bench_enrichment
from feed_server import feed_body
from micro import bench_digest, bench_parse_normalise, bench_store

from pipeline import stages
from pipeline.parse import parse_feed
from pipeline.seaweed import EmbeddedS3, free_ports, on_free_ports
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.storage import ObjectStore, state_key

ROOT = Path(__file__).resolve().parent.parent
HOSTS = 250  # 500 feeds on 250 loopback hosts: two feeds a host, as with real publishers
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WORKERS = 4  # AIRFLOW__CORE__PARALLELISM in the Makefile
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
    proc = subprocess.Popen(
        [*args, *map(str, (feeds, items, delay_ms, HOSTS, port))], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def ingest_shard(args: tuple[Settings, list[str], str]) -> dict[str, Any]:
    """What one mapped `ingest_shard` does up to parsing: the fetch stage, then feedparser on each payload."""
    settings, source_ids, run_id = args
    store = ObjectStore.from_settings(settings)
    start = time.perf_counter()
    results = stages.fetch_sources(store, settings, source_ids, run_id)
    fetched = time.perf_counter() - start
    registry = load_sources(settings)
    items = 0
    for result in results:
        for key in result.raw_keys:
            raw = store.get_object(key)
            source = registry.get(result.source)
            items += len(parse_feed(raw.data, source, key, start_time, {"content-type": raw.content_type}).items)
    errors = [r.error for r in results if r.error]
    states = [r.state.model_dump(mode="json") for r in results if r.state]
    parsed = time.perf_counter() - start - fetched
    return {"fetch_s": fetched, "parse_s": parsed, "items": items, "errors": errors, "states": states}


def commit_states(args: tuple[Settings, list[dict[str, Any]]]) -> None:
    """What the store stage does last (untimed here): keep ETags so the re-run sends conditional GETs."""
    settings, states = args
    store = ObjectStore.from_settings(settings)
    for state in states:
        store.put_json(state_key(state["source"]), state)


start_time = datetime.now(UTC)


def run_pipeline(pool: ProcessPoolExecutor, settings: Settings, run_id: str) -> dict[str, Any]:
    """Shards as `news_ingest` plans them, run by as many workers as Airflow runs tasks at once."""
    shards = stages.plan_shards(settings)
    start = time.perf_counter()
    done = list(pool.map(ingest_shard, [(settings, shard, run_id) for shard in shards]))
    total = time.perf_counter() - start
    list(pool.map(commit_states, [(settings, d["states"]) for d in done]))
    return {
        "total_s": total,
        "shard_fetch_s": statistics.median(d["fetch_s"] for d in done),
        "shard_parse_s": statistics.median(d["parse_s"] for d in done),
        "shards": len(shards),
        "items": sum(d["items"] for d in done),
        "errors": [e for d in done for e in d["errors"]][:3],
    }


def rerun_fetch(pool: ProcessPoolExecutor, settings: Settings) -> float:
    shards = stages.plan_shards(settings)
    start = time.perf_counter()
    list(pool.map(ingest_shard, [(settings, shard, "rerun") for shard in shards]))
    return time.perf_counter() - start


def bench_workload(name: str, spec: dict[str, Any], base: Settings, cores: int) -> dict[str, Any]:
    feeds, items, delay_ms = spec["feeds"], spec["items"], spec["delay_ms"]
    server, port = start_server(feeds, items, delay_ms)
    try:
        urls = [f"http://127.0.1.{n % HOSTS + 1}:{port}/feed/{n}" for n in range(feeds)]
        registry = base.local_dir / f"{name}.toml"
        registry.write_text(
            "".join(
                f'[[sources]]\nid = "feed-{n}"\nkind = "feed"\nurl = "{url}"\nallow_private_network = true\n'
                for n, url in enumerate(urls)
            )
        )
        print(f"[{name}] sequential feedparser.parse(url) loop over {feeds} feeds ...", flush=True)
        loop_s = timed(lambda: [feedparser.parse(u) for u in urls])

        bodies = [feed_body(n, items) for n in range(feeds)]
        cpu_start = time.process_time()
        for body in bodies:
            feedparser.parse(body)
        parse_cpu = time.process_time() - cpu_start
        floor_s = delay_ms / 1000 + parse_cpu / cores

        runs = []
        with ProcessPoolExecutor(WORKERS) as pool:
            list(pool.map(abs, range(WORKERS)))  # start the workers before timing, as Airflow's are
            for run in range(RUNS):
                settings = base.model_copy(update={"bucket": f"bench-{name}-{run}", "sources_file": registry})
                ObjectStore.from_settings(settings).ensure_bucket()
                print(f"[{name}] pipeline run {run + 1}/{RUNS} ...", flush=True)
                runs.append(run_pipeline(pool, settings, f"bench-{run}"))
            last = runs[-1]
            assert not last["errors"], last["errors"]
            assert last["items"] == feeds * items, last
            rerun_s = rerun_fetch(pool, settings)
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
            "shards": runs[-1]["shards"],
            "shard_fetch_s": round(statistics.median(r["shard_fetch_s"] for r in runs), 2),
            "shard_read_and_parse_s": round(statistics.median(r["shard_parse_s"] for r in runs), 2),
            "pipeline_s": round(ours, 2),
            "speedup_vs_loop": round(loop_s / ours, 1),
            "ratio_to_floor": round(ours / floor_s, 2),
            "conditional_rerun_s": round(rerun_s, 2),
            "conditional_rerun_ratio": round(rerun_s / ours, 2),
        }
    finally:
        server.terminate()
        server.wait()


PARSE_CODE = """
import sys, json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
print(json.dumps({sys.argv[1].rsplit("/", 1)[-1]: sum(s.duration.total_seconds() for s in bag.dagbag_stats)}))
"""


def dag_parse_times(runs: int = 5) -> dict[str, float]:
    """Seconds to parse each DAG file in a fresh process, as the dag-processor does (median of `runs`)."""
    times: dict[str, list[float]] = {}
    env = os.environ | {
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    env.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="news-bench-airflow-"))
    for path in sorted((ROOT / "dags").glob("*.py")):
        for _ in range(runs):
            command = [sys.executable, "-c", PARSE_CODE, str(path)]
            out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
            for name, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
                times.setdefault(name, []).append(seconds)
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


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
        "requests per host), each response sent after a fixed delay. The pipeline plans shards as `news_ingest` "
        f"does and runs them on {WORKERS} worker processes (Airflow's `parallelism` in `make up`): each shard's "
        "fetch stage fetches its feeds concurrently and archives every payload in SeaweedFS, then feedparser "
        "parses them (the normalise stage's first step). Floor = slowest response + total feedparser CPU time "
        "/ cores. The conditional re-run repeats the same shards against unchanged feeds (ETag → 304).",
        "",
        "| workload | loop | floor | pipeline | vs loop | vs floor | goal | conditional re-run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, w in results["workloads"].items():
        lines.append(
            f"| {name}: {w['feeds']} x {w['items_per_feed']} items, {w['delay_ms']} ms | {w['loop_s']} s | "
            f"{w['floor_s']} s | {w['pipeline_s']} s | {w['speedup_vs_loop']}x faster | "
            f"{w['ratio_to_floor']}x | {w['goal']} | {w['conditional_rerun_s']} s, all 304 "
            f"({w['conditional_rerun_ratio']:.0%} of the first run) |"
        )
    lines += [
        "",
        f"Peak RSS of the benchmark process: {results['peak_rss_mb']} MB.",
        "",
        "### Where the time goes",
        "",
        "| workload | shards | one shard's fetch stage | one shard's S3 read + parse |",
        "| --- | --- | --- | --- |",
    ]
    for name, w in results["workloads"].items():
        lines.append(f"| {name} | {w['shards']} | {w['shard_fetch_s']} s | {w['shard_read_and_parse_s']} s |")
    lines += [
        "",
        "## DAG parse time per file",
        "",
        "Each file parsed in a fresh process, as the dag-processor does (median of 5). Goal: under 0.3 s.",
        "",
        "| file | seconds |",
        "| --- | --- |",
        *[f"| `dags/{name}` | {seconds} |" for name, seconds in results["dag_parse_s"].items()],
    ]
    lines += [
        "",
        "The floor counts neither politeness (a host's second feed waits 0.5 s for its first) nor archiving "
        "every payload in S3 before parsing, which the pipeline does on purpose (replayable raw/, stages in "
        "separate tasks). On the parse-bound workload those two, plus SeaweedFS and the feed server sharing "
        "the same two cores, are the gap between the floor and the pipeline: parsing alone (feedparser) is "
        "the same code in both. Closing it further means overlapping parsing with the fetch stage's waits.",
        "",
    ]
    if "enrichment" in results:
        e = results["enrichment"]
        lines += [
            "",
            "## Enrichment: the whole stage against spaCy's small model alone",
            "",
            f"{e['articles']} English articles of about {e['mean_words']} words. Baseline: `en_core_web_sm` "
            "(the pinned re-upload) with only its entity recogniser, `nlp.pipe` over the full texts. Stage: "
            "language, entities (the model on each article's first `NEWS_NER_MAX_CHARS` characters, then the "
            "names and the gazetteer over the whole text), quotes, keywords, summary and the MinHash story "
            "index. Each side runs in its own process pinned to one core (`taskset`), so rates are per core.",
            "",
            "| | articles/s per core | load time | peak RSS |",
            "| --- | --- | --- | --- |",
            f"| spaCy NER only (baseline) | {e['baseline_articles_per_s']} | {e['baseline_load_s']} s | "
            f"{e['baseline_rss_mb']} MB |",
            f"| enrichment stage | {e['stage_articles_per_s']} | {e['stage_load_s']} s | {e['stage_rss_mb']} MB |",
            "",
            f"Stage / baseline: {e['speedup_vs_baseline']}x. Goal: {e['goal']}.",
            "",
        ]
    if "parse_normalise" in results:
        p, st, d = results["parse_normalise"], results["store"], results["digest"]
        lines += [
            "## Parse + normalise, per item, against feedparser alone",
            "",
            f"{p['items']} items of realistic RSS (HTML descriptions), medians of 5. The pipeline's cost includes "
            "neutralising DOCTYPEs, feedparser itself, HTML to sections, nh3 sanitising, ftfy, canonical URLs "
            "and the Article model.",
            "",
            "| feedparser.parse | parse_feed + normalise_item | ratio | goal |",
            "| --- | --- | --- | --- |",
            f"| {p['feedparser_us_per_item']} µs | {p['pipeline_us_per_item']} µs | {p['ratio']}x | {p['goal']} |",
            "",
            "Not met yet. The extra half millisecond per item is the cleaning feedparser does not do: HTML to "
            "sections with lxml, nh3 sanitising of the kept markup, ftfy on every text field, and building the "
            "validated `Article`. Next steps: profile `normalise_item` and skip ftfy on pure-ASCII text.",
            "",
            "## Store: articles into SeaweedFS",
            "",
            f"{st['objects']} article objects. Baseline: a sequential `put_object` loop. Store stage: "
            f"`write_article` (GET, then a conditional PUT) with {16} writes in flight ({st['note']}).",
            "",
            "| sequential put_object | store stage | ratio |",
            "| --- | --- | --- |",
            f"| {st['sequential_put_per_s']} objects/s | {st['store_stage_per_s']} objects/s | {st['ratio']}x |",
            "",
            "Each stored article costs two requests (the read that makes the write conditional, then the "
            "write), and SeaweedFS runs on the same two cores, so more writes in flight mostly queue: the "
            "stage reaches about the sequential loop's rate of single PUTs, with twice the requests. Against a "
            "remote store (network latency per request) the 16 writes in flight are what keeps it fast.",
            "",
            "## Digest of 10,000 articles",
            "",
            f"Build (group, rank, sections) and render HTML, Markdown and JSON for {d['articles']} articles in "
            f"{d['stories']} stories, in a fresh process: **{d['seconds']} s, {d['rss_mb']} MB peak RSS** "
            f"(goal: {d['goal']}).",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    """`python bench/run.py [fetch] [enrichment] [micro]`: the named parts (default all); others are kept."""
    parts = set(sys.argv[1:]) or {"fetch", "enrichment", "micro"}
    results_file = ROOT / "bench" / "results.json"
    results: dict[str, Any] = json.loads(results_file.read_text()) if results_file.exists() else {}
    cores = os.cpu_count() or 1
    if "fetch" in parts:
        with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp:
            settings = on_free_ports(Settings(inbox_prefix=""), Path(tmp))
            server = EmbeddedS3(settings)
            server.up()
            try:
                workloads = {name: bench_workload(name, spec, settings, cores) for name, spec in WORKLOADS.items()}
            finally:
                server.down()
        results |= {
            "dag_parse_s": dag_parse_times(),
            "runs": RUNS,
            "workloads": workloads,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    results |= {
        "cores": cores,
        "machine": f"{os.uname().sysname} {os.uname().machine}, Python {sys.version.split()[0]}",
    }
    if "enrichment" in parts:
        results["enrichment"] = bench_enrichment()
    if "micro" in parts:
        results |= {"parse_normalise": bench_parse_normalise(), "store": bench_store(), "digest": bench_digest()}
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text(write_markdown(results))
    print(write_markdown(results))


if __name__ == "__main__":
    main()
