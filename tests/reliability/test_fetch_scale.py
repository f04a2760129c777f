"""Source lists shaped like real ones: many feeds on one host, a long full-text feed, feedparser's own corpus."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pipeline import stages
from pipeline.models import Article, QuarantineRecord, RunReport, TextSource
from pipeline.settings import HostPace, Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import CORPORA, ROOT
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds, stored_once

CORPUS = CORPORA / "feedparser-tests.tar.gz"


def _articles(store: ObjectStore) -> list[Article]:
    return [Article.model_validate_json(store.get_bytes(k)) for k in store.list_keys("articles/")]


def test_150_section_feeds_on_one_host_all_arrive(settings: Settings, store: ObjectStore) -> None:
    # Waiting for the host's turn (2 at a time, 0.1 s apart: 7.5 s for all) must not count against a 5 s timeout.
    settings = settings.model_copy(update={"fetch_timeout": 5.0, "fetch_per_host_delay": 0.1})
    with FeedServer("127.0.0.7") as server:
        paths = {}
        for n in range(150):
            body = rss("Section", [rss_item(f"Section {n} story", f"https://publisher.example/{n}")])
            server.routes[f"/section/{n}.xml"] = Route(body=body, delay=0.02)
            paths[f"section-{n}"] = f"/section/{n}.xml"
        register_feeds(settings, server, paths)
        _, report = stages.ingest(store, settings, "run-1")
    results = accounted(report)
    assert report.failed_sources == [] and report.deferred_sources == []
    assert all(r.read == 1 and r.stored == 1 for r in results.values() if r.source != "inbox")


def test_a_spent_fetch_budget_defers_sources_without_touching_their_health(
    settings: Settings, store: ObjectStore
) -> None:
    settings = settings.model_copy(update={"fetch_budget": 0.3, "fetch_per_host_delay": 0.2})
    with FeedServer("127.0.0.8") as server:
        paths = {}
        for n in range(10):
            server.routes[f"/{n}.xml"] = Route(body=rss("Feed", [rss_item(f"Story {n}", f"https://p.example/{n}")]))
            paths[f"feed-{n}"] = f"/{n}.xml"
        register_feeds(settings, server, paths)
        _, first = stages.ingest(store, settings, "run-1")
        assert first.deferred_sources and first.failed_sources == []
        deferred = set(first.deferred_sources)
        _, second = stages.ingest(store, settings, "run-2")
    fetched_second = {r.source for r in second.sources if r.read}
    assert deferred <= fetched_second | set(second.deferred_sources)
    assert deferred & fetched_second, "what the budget deferred goes first in the next run"
    for source in deferred:
        state = store.get_bytes_or_none(f"state/sources/{source}.json")
        assert state is None or b'"failing"' not in state


def _fulltext_feed(server: FeedServer, items: int) -> None:
    base = server.url("")
    entries = []
    for n in range(items):
        link = f"{base}/story/{n}"
        entries.append(rss_item(f"Story {n}", link, description=f"Teaser {n}."))
        page = (
            f"<html><head><title>Story {n}</title><link rel='canonical' href='{link}'></head><body><article>"
            f"<h1>Story {n}</h1><p>The whole story number {n} starts with its first long paragraph, which "
            f"tells what happened.</p><p>Its second paragraph adds the background of story {n}.</p>"
            "</article></body></html>"
        )
        server.routes[f"/story/{n}"] = Route(body=page.encode(), headers={"Content-Type": "text/html"})
    server.routes["/robots.txt"] = Route(body=b"User-agent: *\nAllow: /\n")
    server.routes["/full.xml"] = Route(body=rss("Full", entries), etag='"v1"')


def test_every_article_of_a_long_full_text_feed_gets_its_page_text_across_runs(
    settings: Settings, store: ObjectStore
) -> None:
    # A page budget too small for 115 pages in one run: the rest come in later runs, though the feed is unchanged.
    settings = settings.model_copy(update={"fulltext_budget": 1.0, "fetch_per_host_delay": 0.02})
    with FeedServer("127.0.0.9") as server:
        _fulltext_feed(server, 115)
        register_feeds(settings, server, {"full": "/full.xml"})
        settings.sources_file.write_text(settings.sources_file.read_text() + "fetch_fulltext = true\n")
        reports: list[RunReport] = []
        for run in range(6):
            _, report = stages.ingest(store, settings, f"run-{run}")
            reports.append(report)
            accounted(report)
            if not {r.source: r for r in report.sources}["full"].pages_missing:
                break
    first = {r.source: r for r in reports[0].sources}["full"]
    assert first.read == 115 and first.pages_missing > 0, "the first run could not fetch every page"
    assert len(reports) > 1 and reports[1].sources[0].not_modified == 1, "later runs: the feed answered 304"
    articles = _articles(store)
    assert len(stored_once(store)) == 115 == len(articles), "the id does not change when the page arrives"
    assert all(a.text_source is TextSource.PAGE and "whole story number" in a.text for a in articles)
    assert any(a.revision == 2 for a in articles), "feed text first, page text as the next revision"


def _corpus_feeds(folder: Path) -> list[Path]:
    with tarfile.open(CORPUS) as archive:
        archive.extractall(folder, filter="data")
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in {".xml", ".rdf", ".atom", ".rss"} and "sanitize" not in p.parts
    )


@pytest.mark.skipif(not CORPUS.exists(), reason=f"feedparser's test corpus not found at {CORPUS}")
def test_feedparsers_own_fixtures_through_news_ingest(settings: Settings, store: ObjectStore, tmp_path: Path) -> None:
    feeds = _corpus_feeds(tmp_path / "corpus")
    assert len(feeds) > 1000
    servers = [FeedServer(f"127.0.1.{n}") for n in range(1, 41)]  # 40 hosts
    entries = []
    for n, feed in enumerate(feeds):
        server = servers[n % len(servers)]
        server.routes[f"/{n}.xml"] = Route(body=feed.read_bytes(), headers={"Content-Type": "application/xml"})
        entries.append(
            f'[[sources]]\nid = "fp-{n}"\nkind = "feed"\nurl = "{server.url(f"/{n}.xml")}"\n'
            "allow_private_network = true\n"
        )
    settings.sources_file.write_text("\n".join(entries))
    env = os.environ | {
        "NEWS_BUCKET": settings.bucket,
        "NEWS_LOCAL_DIR": str(settings.local_dir),
        "NEWS_S3_PORT": str(settings.s3_port),
        "NEWS_INBOX_PREFIX": "",
        "NEWS_FETCH_PER_HOST_DELAY": "0.05",
        "NEWS_MAX_SHARDS": "1",
        "COLUMNS": "200",
    }
    for server in servers:
        server.__enter__()
    try:
        news = Path(sys.executable).parent / "news"
        command = [str(news), "ingest", "--sources", str(settings.sources_file)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    assert done.returncode == 0, done.stderr[-3000:]
    key = done.stdout.strip().splitlines()[-1].removeprefix("run report: ")
    report = RunReport.model_validate_json(store.get_bytes(key))
    results = accounted(report)
    assert report.failed_sources == [] and report.deferred_sources == []
    # Every fixture was fetched and archived, then read (its items stored or duplicates; some have none) or
    # quarantined with its reason: a payload that is no feed counts as one item read and quarantined.
    assert [r.source for r in results.values() if len(r.raw_keys) != 1] == []
    records = [QuarantineRecord.model_validate_json(store.get_bytes(k)) for k in store.list_keys("quarantine/")]
    assert len(records) == report.quarantined and all(r.reason for r in records)
    print(
        f"read {report.read}, stored {report.stored}, duplicates {report.duplicates}, quarantined {report.quarantined}"
    )
    assert report.stored > 200


def _starts(server: FeedServer, prefix: str) -> list[float]:
    return sorted(seen.at for seen in server.requests if seen.path.startswith(prefix))


def test_a_hosts_retry_after_paces_every_source_on_it(settings: Settings, store: ObjectStore) -> None:
    settings = settings.model_copy(update={"fetch_per_host_delay": 0.0, "fetch_per_host_concurrency": 1})
    with FeedServer("127.0.0.10") as server:
        server.routes["/busy.xml"] = Route(status=429, body=b"slow down", headers={"Retry-After": "2"})
        paths = {"busy": "/busy.xml"}
        for n in range(3):
            server.routes[f"/other/{n}.xml"] = Route(
                body=rss("Other", [rss_item(f"Other {n}", f"https://o.example/{n}")])
            )
            paths[f"other-{n}"] = f"/other/{n}.xml"
        register_feeds(settings, server, paths)
        _, report = stages.ingest(store, settings, "run-1")
        busy_at = _starts(server, "/busy.xml")[0]
        others = _starts(server, "/other/")
    results = accounted(report)
    assert results["busy"].error and all(results[f"other-{n}"].stored == 1 for n in range(3))
    later = [at for at in others if at > busy_at]
    assert later and min(later) - busy_at >= 2.0, "the host's Retry-After holds for every source on it"


def test_a_retry_after_beyond_the_budget_defers_the_hosts_other_sources(settings: Settings, store: ObjectStore) -> None:
    settings = settings.model_copy(
        update={"fetch_per_host_delay": 0.0, "fetch_per_host_concurrency": 1, "fetch_budget": 5.0}
    )
    with FeedServer("127.0.0.11") as server:
        server.routes["/busy.xml"] = Route(status=503, body=b"busy", headers={"Retry-After": "3600"})
        paths = {"busy": "/busy.xml"}
        for n in range(5):
            server.routes[f"/next/{n}.xml"] = Route(body=rss("Next", [rss_item(f"Next {n}", f"https://n.example/{n}")]))
            paths[f"next-{n}"] = f"/next/{n}.xml"
        register_feeds(settings, server, paths)
        _, report = stages.ingest(store, settings, "run-1")
        busy_at = _starts(server, "/busy.xml")[0]
        asked = {seen.path for seen in server.requests}
    results = accounted(report)
    assert report.failed_sources == ["busy"]
    for n in range(5):  # asked before the 503 came back, or deferred: never waiting an hour, never failed
        result = results[f"next-{n}"]
        assert result.stored == 1 or (result.deferred and f"/next/{n}.xml" not in asked), result
    assert report.deferred_sources or max(_starts(server, "/next/")) < busy_at


def test_robots_crawl_delay_and_a_per_host_pace(settings: Settings, store: ObjectStore) -> None:
    with FeedServer("127.0.0.12") as server:
        base = server.url("")
        items = [rss_item(f"Story {n}", f"{base}/page/{n}") for n in range(4)]
        for n in range(4):
            server.routes[f"/page/{n}"] = Route(body=b"<html><body><article><p>Text.</p></article></body></html>")
        server.routes["/robots.txt"] = Route(body=b"User-agent: *\nCrawl-delay: 1\n")
        server.routes["/full.xml"] = Route(body=rss("Full", items))
        register_feeds(settings, server, {"full": "/full.xml"})
        settings.sources_file.write_text(settings.sources_file.read_text() + "fetch_fulltext = true\n")
        paced = settings.model_copy(update={"fetch_per_host_delay": 0.0})
        stages.ingest(store, paced, "run-1")
        pages = _starts(server, "/page/")
    gaps = [b - a for a, b in itertools.pairwise(pages)]
    assert len(pages) == 4 and min(gaps) >= 0.9, gaps

    with FeedServer("127.0.0.13") as owned:
        paths = {}
        for n in range(8):
            owned.routes[f"/{n}.xml"] = Route(
                body=rss("Own", [rss_item(f"Own {n}", f"https://own.example/{n}")]), delay=0.5
            )
            paths[f"own-{n}"] = f"/{n}.xml"
        register_feeds(settings, owned, paths)
        ours = settings.model_copy(update={"fetch_hosts": {"127.0.0.13": HostPace(concurrency=8, delay=0)}})
        stages.ingest(store, ours, "run-2")
        assert owned.most_in_flight > 2, "a host you own may be asked more than two at a time"
