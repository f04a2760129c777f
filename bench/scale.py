"""`fetch-scale`: fetching a source list shaped like a real one, each figure beside a floor measured in the same run.

1. The fetch stage (+ the normalise stage's read and parse) over 5,000 feeds on 500 loopback hosts: one host
   holds 300 feeds, 5% of the hosts answer after 5 s, 1% accept the connection and never answer.
2. `news ingest` (every stage, a process of its own) over 500 feeds on 50 hosts, then again with every feed
   unchanged (ETag -> 304); and the same pair of runs through `dag.test()` of news_ingest.
3. The fetch stage of one full-text feed of 115 items whose pages are on the feed's own host.
4. The store stage's writes against a sequential `put_object` loop (`bench_store` of bench/micro.py).

Every host keeps the default politeness (2 requests at once, each waiting 0.5 s between its starts); one server
process (bench/scale_server.py) serves them all.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import feedparser
from feed_server import feed_body
from ingest import bench_dag_test
from micro import bench_store
from shard import ingest_shard, write_registry

from pipeline import stages
from pipeline.models import RunReport
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.ports import free_ports

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4  # AIRFLOW__CORE__PARALLELISM in the Makefile, as bench/run.py
ITEMS = 10
FEEDS, HOSTS, BIG_HOST_FEEDS = 5000, 500, 300
SLOW_S = 5.0
INGEST_FEEDS, INGEST_HOSTS = 500, 50  # a subset for `news ingest`: enrichment of 50,000 items would take half an hour
FULLTEXT_ITEMS = 115
FULLTEXT_HOST = "127.0.5.1"
PARSE_SAMPLE = 10  # the floor's parse CPU: every 10th body parsed, times 10


def host_address(host: int) -> str:
    """Hosts 0-249 on 127.0.2.1-250, 250-499 on 127.0.3.1-250."""
    return f"127.0.{2 + host // 250}.{host % 250 + 1}"


def host_kind(host: int) -> str:
    """1% dead (50, 150, ...), 5% slow (7, 27, ...), the rest, and the 300-feed host 0, answer at once."""
    return "dead" if host % 100 == 50 else "slow" if host % 20 == 7 else "ok"


def feed_host(feed: int) -> int:
    """Feeds 0-299 on host 0, the other 4,700 round-robin on hosts 1-499 (9 or 10 each)."""
    return 0 if feed < BIG_HOST_FEEDS else 1 + (feed - BIG_HOST_FEEDS) % (HOSTS - 1)


def ingest_address(feed: int) -> str:
    return f"127.0.4.{(feed - FEEDS) % INGEST_HOSTS + 1}"


def start_server(folder: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_ports(1)[0]
    kinds: dict[str, list[str]] = {"ok": [], "slow": [], "dead": []}
    for host in range(HOSTS):
        kinds[host_kind(host)].append(host_address(host))
    kinds["ok"] += [f"127.0.4.{h + 1}" for h in range(INGEST_HOSTS)]
    plan = kinds | {
        "port": port,
        "items": ITEMS,
        "feeds": FEEDS + INGEST_FEEDS,
        "slow_s": SLOW_S,
        "fulltext": [FULLTEXT_HOST],
        "fulltext_items": FULLTEXT_ITEMS,
    }
    path = folder / "scale-plan.json"
    path.write_text(json.dumps(plan))
    server = Path(__file__).with_name("scale_server.py")
    proc = subprocess.Popen([sys.executable, str(server), str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def server_stats(port: int) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"http://{FULLTEXT_HOST}:{port}/stats", timeout=10) as response:
        stats: dict[str, dict[str, Any]] = json.load(response)
    return stats


def politeness_floor(requests: int, answer_s: float, settings: Settings) -> float:
    """The least time `requests` to one host can take: `concurrency` at once, each slot waiting `delay` between
    its starts, each request taking `answer_s` (a dead host's: the read timeout): requests / concurrency x delay."""
    delay, concurrency = settings.fetch_per_host_delay, settings.fetch_per_host_concurrency
    rounds = math.ceil(requests / concurrency)
    return max((rounds - 1) * delay + answer_s, rounds * answer_s)


def bench_scale_fetch(base: Settings, port: int, cores: int) -> dict[str, Any]:
    urls = [f"http://{host_address(feed_host(n))}:{port}/feed/{n}" for n in range(FEEDS)]
    registry = write_registry(base.local_dir / "scale.toml", urls)
    settings = base.model_copy(
        update={"bucket": "bench-scale-fetch", "sources_file": registry, "allow_private_networks": True}
    )
    ObjectStore.from_settings(settings).ensure_bucket()
    shards = stages.plan_shards(settings)
    dead = {f"feed-{n}" for n in range(FEEDS) if host_kind(feed_host(n)) == "dead"}
    answering = FEEDS - len(dead)
    print(f"[fetch-scale] fetch stage over {FEEDS} feeds on {HOSTS} hosts, {len(shards)} shards ...", flush=True)
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(abs, range(WORKERS)))  # start the workers before timing, as Airflow's are
        start = time.perf_counter()
        done = list(pool.map(ingest_shard, [(settings, shard, "scale") for shard in shards]))
        total = time.perf_counter() - start
    stats = server_stats(port)
    failed = sorted(f for d in done for f in d["failed"])
    items = sum(d["items"] for d in done)
    assert set(failed) == dead, sorted(set(failed) ^ dead)[:5]
    assert items == answering * ITEMS, items

    # The floor: the slowest host by politeness (its answer time included), and parsing over the cores.
    per_host: dict[int, int] = {}
    for n in range(FEEDS):
        per_host[feed_host(n)] = per_host.get(feed_host(n), 0) + 1
    answer_s = {"ok": 0.0, "slow": SLOW_S, "dead": settings.fetch_read_timeout}
    waits = {h: politeness_floor(k, answer_s[host_kind(h)], settings) for h, k in per_host.items()}
    sample = [feed_body(n, ITEMS) for n in range(0, FEEDS, PARSE_SAMPLE) if f"feed-{n}" not in dead]
    cpu_start = time.process_time()
    for body in sample:
        feedparser.parse(body)
    parse_cpu = (time.process_time() - cpu_start) * answering / len(sample)
    wait_s = max(waits.values())
    floor_s = wait_s + parse_cpu / cores
    big = stats[host_address(0)]
    big_shard = next(d for d, shard in zip(done, shards, strict=True) if "feed-0" in shard)
    return {
        "feeds": FEEDS,
        "hosts": HOSTS,
        "items_per_feed": ITEMS,
        "busiest_host_feeds": BIG_HOST_FEEDS,
        "slow_hosts": sum(1 for h in range(HOSTS) if host_kind(h) == "slow"),
        "dead_hosts": sum(1 for h in range(HOSTS) if host_kind(h) == "dead"),
        "shards": len(shards),
        "seconds": round(total, 1),
        "politeness_floor_s": round(wait_s, 1),
        "slowest_kind_floor_s": {
            kind: round(max(w for h, w in waits.items() if host_kind(h) == kind), 1) for kind in answer_s
        },
        "parse_cpu_s": round(parse_cpu, 1),
        "floor_s": round(floor_s, 1),
        "ratio": round(total / floor_s, 2),
        "goal": "within 1.25x of the floor",
        "failures": len(failed),
        "failures_expected": len(dead),
        "read_timeout_s": settings.fetch_read_timeout,
        "deferred": sum(d["deferred"] for d in done),
        "peak_rss_mb": max(d["rss_mb"] for d in done),
        "items": items,
        "shard_fetch_s": [round(d["fetch_s"], 1) for d in done],
        "shard_read_and_parse_s": [round(d["parse_s"], 1) for d in done],
        "busiest_shard_fetch_s": round(big_shard["fetch_s"], 1),
        "busiest_shard_parse_s": round(big_shard["parse_s"], 1),
        "busiest_host_requests": big["requests"],
        "busiest_host_span_s": round(big["last"] - big["first"], 1),
        "busiest_host_most_in_flight": big["most_in_flight"],
    }


def _news_ingest(env: dict[str, str], registry: Path, log: Path, store: ObjectStore) -> tuple[float, RunReport, int]:
    """`news ingest` in a process of its own: seconds (start-up included), its report and its peak RSS (MB)."""
    command = [str(Path(sys.executable).parent / "news"), "ingest", "--sources", str(registry)]
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = log.read_text().strip().splitlines()
    assert proc.returncode == 0, "\n".join(lines[-30:])
    report = RunReport.model_validate_json(store.get_bytes(lines[-1].removeprefix("run report: ")))
    return seconds, report, round(usage.ru_maxrss / 1024)


def _ingest_registry(base: Settings, port: int) -> Path:
    urls = [f"http://{ingest_address(n)}:{port}/feed/{n}" for n in range(FEEDS, FEEDS + INGEST_FEEDS)]
    return write_registry(base.local_dir / "scale-ingest.toml", urls)


def bench_scale_ingest(base: Settings, port: int) -> dict[str, Any]:
    registry = _ingest_registry(base, port)
    bucket = "bench-scale-ingest"
    store = ObjectStore.from_settings(base.model_copy(update={"bucket": bucket}))
    store.ensure_bucket()
    env = os.environ | {
        "NEWS_BUCKET": bucket,
        "NEWS_LOCAL_DIR": str(base.local_dir),
        "NEWS_S3_PORT": str(base.s3_port),
        "NEWS_INBOX_PREFIX": "",
        "NEWS_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWS_POLL_MAX_INTERVAL": "0",  # every feed polled again, not skipped by the poll schedule
        "COLUMNS": "200",
    }
    print(f"[fetch-scale] news ingest over {INGEST_FEEDS} feeds on {INGEST_HOSTS} hosts, then again ...", flush=True)
    first_s, first, first_rss = _news_ingest(env, registry, base.local_dir / "ingest-first.log", store)
    rerun_s, rerun, rerun_rss = _news_ingest(env, registry, base.local_dir / "ingest-rerun.log", store)
    # Under the default poll schedule: one run sets each feed's next poll, and the next run finds none due.
    idle_env = {k: v for k, v in env.items() if k != "NEWS_POLL_MAX_INTERVAL"}
    _news_ingest(idle_env, registry, base.local_dir / "ingest-scheduled.log", store)
    idle_s, idle, _ = _news_ingest(idle_env, registry, base.local_dir / "ingest-idle.log", store)
    assert not first.failed_sources and first.stored == INGEST_FEEDS * ITEMS, first.model_dump(exclude={"sources"})
    assert rerun.not_modified == INGEST_FEEDS and rerun.read == rerun.stored == 0, rerun.model_dump(exclude={"sources"})
    not_due = sum(1 for source in idle.sources if source.not_due_until is not None)
    assert not_due == INGEST_FEEDS and idle.read == 0, idle.model_dump(exclude={"sources"})
    return {
        "feeds": INGEST_FEEDS,
        "hosts": INGEST_HOSTS,
        "items_per_feed": ITEMS,
        "first_run_s": round(first_s, 1),
        "articles": first.stored,
        "rerun_s": round(rerun_s, 1),
        "rerun_not_modified": rerun.not_modified,
        "rerun_stored": rerun.stored,
        "ratio": round(rerun_s / first_s, 3),
        "goal": "re-run at most 10% of the first run",
        "failures": len(first.failed_sources) + len(rerun.failed_sources),
        "deferred": len(first.deferred_sources) + len(rerun.deferred_sources),
        "peak_rss_mb": max(first_rss, rerun_rss),
        "rerun_politeness_floor_s": round(politeness_floor(INGEST_FEEDS // INGEST_HOSTS, 0.0, base), 1),
        "nothing_due_s": round(idle_s, 2),
        "nothing_due_goal": "under 1.5 s",
        "help_s": _help_seconds(),
        "help_goal": "under 0.5 s",
    }


def _help_seconds(runs: int = 7) -> float:
    """`news --help`, process start included: the median of a few runs."""
    command = [str(Path(sys.executable).parent / "news"), "--help"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 2)


def bench_scale_dag_test(base: Settings, port: int) -> dict[str, Any]:
    """The same subset and its unchanged re-run through `dag.test()` of news_ingest (one pair: the first run
    takes minutes, as dag.test() runs the tasks one after another)."""
    settings = base.model_copy(update={"bucket": "bench-scale-dag-test", "sources_file": _ingest_registry(base, port)})
    print(f"[fetch-scale] dag.test() of news_ingest over {INGEST_FEEDS} feeds, then again ...", flush=True)
    measured = bench_dag_test(settings, runs=1)
    return measured | {"ratio": round(measured["rerun_s"] / measured["first_run_s"], 3)}


def bench_scale_fulltext(base: Settings, port: int) -> dict[str, Any]:
    registry = base.local_dir / "scale-fulltext.toml"
    registry.write_text(
        f'[[sources]]\nid = "full"\nkind = "feed"\nurl = "http://{FULLTEXT_HOST}:{port}/full.xml"\n'
        "allow_private_network = true\nfetch_fulltext = true\n"
    )
    settings = base.model_copy(
        update={"bucket": "bench-scale-fulltext", "sources_file": registry, "allow_private_networks": True}
    )
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    print(f"[fetch-scale] full-text feed of {FULLTEXT_ITEMS} items on one host ...", flush=True)
    start = time.perf_counter()
    (result,) = stages.fetch_sources(store, settings, ["full"], "scale-fulltext")
    seconds = time.perf_counter() - start
    host = server_stats(port)[FULLTEXT_HOST]
    assert result.error is None and len(result.pages) == FULLTEXT_ITEMS and not result.pages_missing, result
    requests = 2 + FULLTEXT_ITEMS  # the feed, robots.txt, the pages
    assert host["requests"] == requests, host
    floor_s = politeness_floor(requests, 0.0, settings)
    return {
        "items": FULLTEXT_ITEMS,
        "requests": requests,
        "seconds": round(seconds, 1),
        "floor_s": round(floor_s, 1),
        "ratio": round(seconds / floor_s, 2),
        "pages": len(result.pages),
        "pages_missing": result.pages_missing,
        "failures": int(result.error is not None),
        "deferred": int(result.deferred),
        "host_span_s": round(host["last"] - host["first"], 1),
        "host_most_in_flight": host["most_in_flight"],
    }


def bench_fetch_scale(base: Settings, cores: int) -> dict[str, Any]:
    """Every measurement of the part, with one server process for all of them."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="news-bench-scale-") as tmp:
        server, port = start_server(Path(tmp))
        try:
            fetch = bench_scale_fetch(base, port, cores)
            fulltext = bench_scale_fulltext(base, port)
            ingest = bench_scale_ingest(base, port)
            dag_test = bench_scale_dag_test(base, port)
        finally:
            server.terminate()
            server.wait()
    print("[fetch-scale] store stage against a sequential put_object loop ...", flush=True)
    store = bench_store()
    return {
        "fetch": fetch,
        "ingest": ingest,
        "dag_test": dag_test,
        "fulltext": fulltext,
        "store": store | {"goal": "at least 1.0x the loop"},
        "part_s": round(time.perf_counter() - started),
    }


def _met(ratio: float, at_most: float | None = None, at_least: float | None = None) -> str:
    met = (at_most is None or ratio <= at_most) and (at_least is None or ratio >= at_least)
    return "yes" if met else "no"


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v} s" for v in values)


def markdown(part: dict[str, Any]) -> list[str]:
    """The section of docs/benchmarks.md for `fetch-scale`."""
    f, i, t, st = part["fetch"], part["ingest"], part["fulltext"], part["store"]
    d = part.get("dag_test")
    slowest = f["slowest_kind_floor_s"]
    others = list(f["shard_fetch_s"])
    others.remove(f["busiest_shard_fetch_s"])
    return [
        "## Fetching real source lists",
        "",
        f"{f['feeds']:,} feeds of {f['items_per_feed']} items on {f['hosts']} loopback hosts (127.0.2.x and "
        f"127.0.3.x), shaped like a real list: one host holds {f['busiest_host_feeds']} of them, the others 9 or "
        f"10; {f['slow_hosts']} hosts (5%) answer after {SLOW_S:.0f} s, {f['dead_hosts']} (1%) accept the "
        "connection and never answer (the read timeout ends each of their requests: their sources are the only "
        "failures allowed). Default politeness (2 requests at once per host, each slot 0.5 s between starts), "
        "the default fetch budget (2,400 s), `NEWS_ALLOW_PRIVATE_NETWORKS=1`. One aiohttp process serves every host "
        "(`bench/scale_server.py`, a site per address). The shards are planned as `news_ingest` plans them (a "
        f"host's sources in one shard) and run on {WORKERS} worker processes, each its fetch stage and then the "
        "normalise stage's read and parse, as in the first section. Measured in one run by "
        f"`python bench/run.py fetch-scale` ({part['part_s']} s in all).",
        "",
        "**The floor** is the slowest host's politeness plus parsing: a host's n requests go 2 at a time, each "
        "slot waiting 0.5 s between starts, so they take at least n / 2 (rounded up) rounds of 0.5 s, or of the "
        f"answer when it takes longer (a dead host's: the {f['read_timeout_s']:.0f} s read timeout). The "
        f"{f['busiest_host_feeds']}-feed host needs {slowest['ok']} s, a slow host {slowest['slow']} s, a dead "
        f"one {slowest['dead']} s; to the largest, "
        f"{f['politeness_floor_s']} s, add feedparser's CPU time on the answering feeds' bodies "
        f"({f['parse_cpu_s']} s, every {PARSE_SAMPLE}th body timed, times {PARSE_SAMPLE}) over the cores.",
        "",
        "| measurement | measured | floor or baseline | ratio | goal | met | failures | deferred | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| fetch stage + parse, {f['feeds']:,} feeds on {f['hosts']} hosts | {f['seconds']} s | {f['floor_s']} s "
        f"| {f['ratio']}x | {f['goal']} | {_met(f['ratio'], at_most=1.25)} | {f['failures']} (the dead hosts' "
        f"{f['failures_expected']} sources) | {f['deferred']} | {f['peak_rss_mb']} MB (largest worker) |",
        f"| unchanged re-run through `news ingest`, {i['feeds']} feeds on {i['hosts']} hosts | {i['rerun_s']} s, "
        f"all {i['rerun_not_modified']} 304 | first run {i['first_run_s']} s ({i['articles']:,} articles) | "
        f"{i['ratio']:.1%} | {i['goal']} | {_met(i['ratio'], at_most=0.10)} | {i['failures']} | {i['deferred']} | "
        f"{i['peak_rss_mb']} MB |",
        *(
            [
                f"| unchanged re-run through `dag.test()` of news_ingest, the same {d['sources']} feeds | "
                f"{d['rerun_s']} s, all {d['rerun_not_modified']} 304 | first run {d['first_run_s']} s "
                f"({d['articles']:,} articles, {d['tasks']} task instances) | {d['ratio']:.1%} | {i['goal']} | "
                f"{_met(d['ratio'], at_most=0.10)} | | | |"
            ]
            if d
            else []
        ),
        *(
            [
                f"| `news ingest` with nothing due (the same {i['feeds']} feeds just polled, the default poll "
                f"schedule) | {i['nothing_due_s']} s | | | {i['nothing_due_goal']} | "
                f"{_met(i['nothing_due_s'], at_most=1.5)} | | | |",
                f"| `news --help` (median of 7) | {i['help_s']} s | | | {i['help_goal']} | "
                f"{_met(i['help_s'], at_most=0.5)} | | | |",
            ]
            if "help_s" in i
            else []
        ),
        f"| full text: a feed of {t['items']} items, their pages on its host | {t['seconds']} s | {t['floor_s']} s "
        f"({t['requests']} requests) | {t['ratio']}x | (none set) | | {t['failures']} ({t['pages']} pages, "
        f"{t['pages_missing']} missing) | {t['deferred']} | |",
        f"| store: {st['objects']:,} new articles into SeaweedFS | {st['store_stage_per_s']} objects/s | sequential "
        f"`put_object` {st['sequential_put_per_s']} objects/s | {st['ratio']}x | {st['goal']} | "
        f"{_met(st['ratio'], at_least=1.0)} | | | |",
        "",
        f"Parse CPU in this run: {f['parse_cpu_s']} s for the same feed bodies every run parses; a larger figure "
        "than usual means a slower machine (shared cores), which stretches every absolute time in the table, "
        "the start-up rows included, while the ratios compare like with like.",
        "",
        "Where the time goes: the busiest host received its "
        f"{f['busiest_host_requests']} requests over {f['busiest_host_span_s']} s (first to last, at most "
        f"{f['busiest_host_most_in_flight']} at once: each answer came before the next start was due); its "
        f"shard's fetch stage took {f['busiest_shard_fetch_s']} s and its read and parse "
        f"{f['busiest_shard_parse_s']} s after it, while the other shards fetched ({_seconds(others)}; a shard "
        "with a dead host waits out its timeouts) and parsed beside it. The full-text host received its "
        f"{t['requests']} requests (the feed, robots.txt, a page per item) over {t['host_span_s']} s.",
        "",
        f"`news ingest` runs every stage (fetch, normalise, enrich, store) in one process, so over all "
        f"{f['feeds']:,} feeds (50,000 items at about 30 articles/s per core) it would take half an hour; it runs "
        f"on a subset instead: {i['feeds']} feeds of {i['items_per_feed']} items on {i['hosts']} further hosts "
        "(127.0.4.x, answering at once), each run a process of its own (its start-up counted), with "
        "`NEWS_POLL_MAX_INTERVAL=0` so the re-run polls every feed again. Each 304 comes back before its host's "
        "next start is due and gives its turn back, so the re-run does not wait out the politeness of a host's "
        f"{i['feeds'] // i['hosts']} feeds ({i['rerun_politeness_floor_s']} s if every request took its turn). "
        "The store row re-runs `bench_store` of `bench/micro.py` (as in the Store section below).",
        "",
        *(
            [
                "Where the `dag.test()` re-run goes (seconds per task, its mapped instances summed): "
                + ", ".join(f"{task} {seconds}" for task, seconds in d["rerun_task_s"].items())
                + ". `dag.test()` runs the mapped shards one after another (under the scheduler they run side by "
                "side), each task in the same process: the tasks share one S3 client, and an unchanged source "
                "costs its fetch stage a conditional GET and its store stage one PUT of its state."
            ]
            if d
            else []
        ),
    ]
