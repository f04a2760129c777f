"""Load: 1,000 sources and 50,000 items in one run, within the memory bound, with bounded XCom per task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.feedserver import FeedServer, Route
from tests.reliability.conftest import register_feeds, stored_once

ROOT = Path(__file__).resolve().parents[2]
SOURCES, ITEMS = 1000, 50
MAX_RSS_MB = 1500  # one worker process running every stage, the spaCy model included
MAX_XCOM_BYTES_PER_SOURCE = 2048  # what a stage hands the next per source: keys and counts, never articles

_RUN = """
import json, resource, sys, time
from pipeline import stages
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
settings = Settings()
started = time.monotonic()
key, report = stages.ingest(ObjectStore.from_settings(settings), settings, "load")
xcom = {r.source: len(r.model_dump_json()) for r in report.sources}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": time.monotonic() - started, "rss_mb": peak, "xcom": xcom,
                  "totals": [report.read, report.stored, report.duplicates, report.quarantined]}))
"""


def _feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Source {n} item {i}: council approves the new harbour budget</title>"
        f"<link>https://source{n}.example/{i}</link><description>The council of town {n} voted on item {i} "
        f"on Monday.</description><pubDate>Mon, 04 Mar 2024 {i % 24:02d}:00:00 GMT</pubDate></item>"
        for i in range(ITEMS)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>S{n}</title>{items}</channel></rss>'.encode()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_a_thousand_sources_and_fifty_thousand_items(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    for n in range(SOURCES):
        feed_server.routes[f"/s{n}.xml"] = Route(body=_feed(n))
    register_feeds(settings, feed_server, {f"s{n}": f"/s{n}.xml" for n in range(SOURCES)})
    env = os.environ | {
        "NEWS_BUCKET": settings.bucket,
        "NEWS_SOURCES_FILE": str(settings.sources_file),
        "NEWS_LOCAL_DIR": str(settings.local_dir),
        "NEWS_S3_PORT": str(settings.s3_port),
        "NEWS_INBOX_PREFIX": "",
        # One loopback host serves all 1,000 feeds: politeness per host would only measure the delay.
        "NEWS_FETCH_PER_HOST_CONCURRENCY": "32",
        "NEWS_FETCH_PER_HOST_DELAY": "0",
    }
    done = subprocess.run([sys.executable, "-c", _RUN], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in outcome.items() if k != "xcom"}), max(outcome["xcom"].values()))
    assert outcome["totals"] == [SOURCES * ITEMS, SOURCES * ITEMS, 0, 0]
    assert outcome["rss_mb"] < MAX_RSS_MB
    assert max(outcome["xcom"].values()) < MAX_XCOM_BYTES_PER_SOURCE
    assert len(stored_once(store)) == SOURCES * ITEMS
