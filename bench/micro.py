"""Per-stage benchmarks, each beside its baseline in the same run: parse + normalise against feedparser
alone, storing articles against a sequential `put_object` loop, and the digest of 10,000 articles."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNS = 5
RUNS_STORE = 3


def _median_seconds(fn: Any, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_parse_normalise(feeds: int = 40, items: int = 50) -> dict[str, Any]:
    """feedparser.parse on the bytes, against the pipeline's parse_feed + normalise_item on the same bytes."""
    import feedparser
    from feed_server import feed_body

    from pipeline.models import Source
    from pipeline.normalise import normalise_item
    from pipeline.parse import parse_feed

    bodies = [feed_body(n, items) for n in range(feeds)]
    source = Source(id="bench", kind="feed", url="https://example.org/feed")
    fetched = datetime(2024, 1, 8, tzinfo=UTC)

    def baseline() -> None:
        for body in bodies:
            feedparser.parse(body)

    def pipeline() -> None:
        for body in bodies:
            for item in parse_feed(body, source, "raw/bench", fetched).items:
                normalise_item(item)

    base, ours = _median_seconds(baseline), _median_seconds(pipeline)
    n = feeds * items
    return {
        "items": n,
        "feedparser_us_per_item": round(base / n * 1e6),
        "pipeline_us_per_item": round(ours / n * 1e6),
        "ratio": round(ours / base, 2),
        "goal": "at most 1.5x feedparser alone",
    }


def bench_neutralise(n: int = 30_000) -> dict[str, Any]:
    """The declaration neutraliser on n and on 8n pathological declarations: linear time gives a ratio near 8,
    quadratic near 64."""
    from pipeline.errors import PermanentError
    from pipeline.feed_text import neutralise_declarations

    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    shapes = {
        "unterminated_entity": b"<!ENTITY ",
        "unterminated_doctype": b"<!DOCTYPE rss [",
        "entity": b"<!ENTITY a 'b'>",
        "doctype_with_subset": b"<!DOCTYPE a [<!ENTITY b 'c'>]>",
    }

    def neutralise(data: bytes) -> None:
        with suppress(PermanentError):  # the unterminated shapes are refused, once scanned
            neutralise_declarations(data)

    ms, ratios = {}, {}
    for name, unit in shapes.items():
        small = _median_seconds(partial(neutralise, feed + unit * n))
        large = _median_seconds(partial(neutralise, feed + unit * (8 * n)))
        ms[name] = [round(small * 1e3, 1), round(large * 1e3, 1)]
        ratios[name] = round(large / small, 1)
    return {
        "declarations": [n, 8 * n],
        "ms": ms,
        "ratio": ratios,
        "goal": "about 8 (linear), not 64 (quadratic)",
    }


def bench_store(count: int = 2000) -> dict[str, Any]:
    """Articles into SeaweedFS: the store stage's writes (a new article: one conditional PUT, If-None-Match: *;
    16 in flight) against a sequential put_object loop of the same bytes."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.seaweed import EmbeddedS3
    from pipeline.settings import Settings
    from pipeline.stages.store import article_bytes, write_article
    from pipeline.storage.keys import article_key
    from pipeline.storage.store import ObjectStore
    from tests.support.articles import load_cases, to_article
    from tests.support.ports import on_free_ports

    template = to_article(load_cases()[0])
    articles = [template.model_copy(update={"id": f"{i:032x}", "content_hash": f"{i:064x}"}) for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="news-bench-store-") as tmp:
        settings = on_free_ports(Settings(), Path(tmp))
        server = EmbeddedS3(settings)
        server.up()
        try:
            store = ObjectStore.from_settings(settings)
            store.ensure_bucket()
            sequential_runs, our_runs = [], []
            for run in range(RUNS_STORE):  # new keys every run: the store stage writes new articles
                batch = [a.model_copy(update={"id": f"{run}{a.id[1:]}"}) for a in articles]
                start = time.perf_counter()
                for a in batch:
                    key = f"baseline/{a.id}.json"
                    store.client.put_object(Bucket=store.bucket, Key=key, Body=article_bytes(a))
                sequential_runs.append(time.perf_counter() - start)
                start = time.perf_counter()
                with ThreadPoolExecutor(max_workers=settings.store_concurrency) as pool:
                    list(pool.map(lambda a: write_article(store, article_key(a.published_date, a.id), a), batch))
                our_runs.append(time.perf_counter() - start)
            sequential, ours = statistics.median(sequential_runs), statistics.median(our_runs)
        finally:
            server.down()
    return {
        "objects": count,
        "runs": RUNS_STORE,
        "sequential_put_per_s": round(count / sequential),
        "store_stage_per_s": round(count / ours),
        "ratio": round(sequential / ours, 2),
        "note": "the store stage's PUTs are conditional (If-None-Match: *), the loop's are not",
    }


_DIGEST = """
import json, resource, sys, time
from datetime import date, timedelta
from pathlib import Path
from pipeline.digest import build_digest, render_html, render_json, render_markdown
from pipeline.models import Article
base = [Article.model_validate_json(l) for l in Path("tests/fixtures/digest/articles.jsonl").read_text().splitlines()]
articles = []
for i in range(10_000):
    a = base[i % len(base)]
    story = f"{i // 3:032x}"  # stories of three articles
    articles.append(a.model_copy(update={"id": f"{i:032x}", "story_id": story, "source": f"s{i % 300}"}))
start = time.perf_counter()
digest = build_digest(date(2026, 3, 2), articles)
sizes = [len(render_html(digest)), len(render_markdown(digest)), len(render_json(digest))]
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "stories": digest.counts.stories, "bytes": sizes}))
"""


def bench_digest(runs: int = 3) -> dict[str, Any]:
    """Each run in a fresh process: the median time, the largest peak RSS."""
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _DIGEST], capture_output=True, text=True, check=True, cwd=ROOT)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "articles": 10_000,
        "stories": results[0]["stories"],
        "runs": runs,
        "seconds": round(statistics.median(r["seconds"] for r in results), 2),
        "rss_mb": max(r["rss_mb"] for r in results),
        "goal": "under 30 s and 1 GB",
    }


if __name__ == "__main__":
    results = {"parse": bench_parse_normalise(), "neutralise": bench_neutralise(), "store": bench_store()}
    print(json.dumps(results | {"digest": bench_digest()}, indent=2))
