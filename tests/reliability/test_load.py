"""Load: 1,000 sources and 50,000 items in one run, within the memory bound, with bounded XCom per task."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import ROOT
from tests.support.processes import last_json_line, run_python
from tests.support.rss import rss, rss_item
from tests.support.sources import stored_once

SOURCES, ITEMS, HOSTS = 1000, 50, 4
MAX_RSS_MB = 1500  # every stage of the largest shard in one process, the spaCy model included
MAX_XCOM_BYTES_PER_SOURCE = 2048  # what a stage hands the next per source: keys and counts, never articles

# Shard by shard, as news_ingest's mapped task groups run them, measuring what each hand-off would put in
# XCom; the peak RSS is then that of the largest shard's tasks, in one process.
_RUN = """
import json, resource, time
from pipeline import stages
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
settings = Settings()
store = ObjectStore.from_settings(settings)
started, results, xcom = time.monotonic(), [], []
shards = stages.plan_shards(settings)
for shard in shards:
    out = stages.fetch_sources(store, settings, shard, "load")
    for stage in (stages.normalise_sources, stages.enrich_sources, stages.store_sources):
        xcom.append(max(len(r.model_dump_json()) for r in out))
        out = stage(store, settings, out)
    xcom.append(max(len(r.model_dump_json()) for r in out))
    results += out
key, report = stages.write_run_report(store, "load", "load", [s for shard in shards for s in shard], results)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": time.monotonic() - started, "rss_mb": peak, "shards": len(shards),
                  "xcom_max_bytes_per_source": max(xcom),
                  "totals": [report.read, report.stored, report.duplicates, report.quarantined]}))
"""


def _vocabulary() -> list[str]:
    from tests.support.articles import load_cases

    words = {w.strip(".,;:\"'“”«»()") for c in load_cases() for w in c["text"].split()}
    return sorted(w for w in words if w.isalpha())


def _feed(n: int, words: list[str]) -> bytes:
    """Items as varied as real news: titles and descriptions drawn from the labelled set's vocabulary."""
    rng = random.Random(n)  # a repeatable sample
    items = [
        rss_item(
            " ".join(rng.choices(words, k=9)),
            f"https://source{n}.example/{i}",
            " ".join(rng.choices(words, k=40)) + ".",
            f"Mon, 04 Mar 2024 {i % 24:02d}:00:00 GMT",
        )
        for i in range(ITEMS)
    ]
    return rss(f"S{n}", items)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_a_thousand_sources_and_fifty_thousand_items(settings: Settings, store: ObjectStore) -> None:
    words = _vocabulary()
    hosts = [f"127.0.0.{n}" for n in range(2, 2 + HOSTS)]  # four publishers: plan_sources makes four shards
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(FeedServer(host)) for host in hosts]
        entries = []
        for n in range(SOURCES):
            server = servers[n % HOSTS]
            server.routes[f"/s{n}.xml"] = Route(body=_feed(n, words))
            entries.append(
                f'[[sources]]\nid = "s{n}"\nkind = "feed"\nurl = "{server.url(f"/s{n}.xml")}"\n'
                "allow_private_network = true\n"
            )
        settings.sources_file.write_text("\n".join(entries))
        outcome = _run(settings)
    # Kept for docs/reliability.md (.local is not tracked).
    (ROOT / ".local").mkdir(exist_ok=True)
    (ROOT / ".local" / "reliability-load.json").write_text(json.dumps(outcome, indent=2))
    assert outcome["shards"] == HOSTS
    assert outcome["totals"] == [SOURCES * ITEMS, SOURCES * ITEMS, 0, 0]
    assert outcome["rss_mb"] < MAX_RSS_MB
    assert outcome["xcom_max_bytes_per_source"] < MAX_XCOM_BYTES_PER_SOURCE
    assert len(stored_once(store)) == SOURCES * ITEMS


def _run(settings: Settings) -> dict[str, Any]:
    # Four loopback hosts serve 250 feeds each: politeness per host would only measure its delay.
    done = run_python(settings, _RUN, NEWS_FETCH_PER_HOST_CONCURRENCY="32", NEWS_FETCH_PER_HOST_DELAY="0")
    return last_json_line(done)
