"""Hostile input through the real stages: one bad value fails only its item, page or source, never the shard."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta

import brotli
import pytest
import zstandard

from pipeline import stages
from pipeline.models import Article, SourceState
from pipeline.settings import Settings
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.processes import last_json_line, run_python
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds, stored_once

MIB = 1024 * 1024
FEED_TYPE = {"Content-Type": "application/rss+xml"}


def _articles(store: ObjectStore) -> dict[str, list[Article]]:
    found: dict[str, list[Article]] = {}
    for key in store.list_keys("articles/"):
        article = Article.model_validate_json(store.get_bytes(key))
        found.setdefault(article.source, []).append(article)
    return found


def _state(store: ObjectStore, source: str) -> SourceState:
    return SourceState.model_validate_json(store.get_bytes(state_key(source)))


def _page(title: str, canonical: str) -> bytes:
    return (
        f"<html><head><title>{title}</title><link rel='canonical' href='{canonical}'></head><body><article>"
        f"<h1>{title}</h1><p>The page's own long first paragraph about {title}, with what happened and where.</p>"
        "<p>A second paragraph with the background.</p></article></body></html>"
    ).encode()


@pytest.fixture
def busy_host() -> Iterator[FeedServer]:
    """A host of its own for the feed whose Retry-After pauses every source on its host."""
    with FeedServer("127.0.0.77") as server:
        yield server


def test_one_bad_value_fails_only_its_item_page_or_source(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, busy_host: FeedServer
) -> None:
    base = feed_server.url("")
    odd_links = [
        rss_item("Port out of range", "http://example.org:99999/a"),
        rss_item("Port that is no number", "http://example.org:abc/a"),
        rss_item("An IPv6 literal", "http://[2001:db8::1]:8080/story"),
    ]
    long_link = f"{base}/story/{'x' * 3000}"
    pages = {
        "/story/plain": _page("Plain story", f"{base}/story/plain"),
        "/story/caf%C3%A9": _page("Café story", "https://evil.example/elsewhere"),  # canonical off-site: not taken
        f"/story/{'x' * 3000}": _page("Long link story", long_link),
    }
    for path, page in pages.items():
        feed_server.routes[path] = Route(body=page, headers={"Content-Type": "text/html"})
    feed_server.routes["/robots.txt"] = Route(body=b"User-agent: *\nAllow: /\n")
    full = [
        rss_item("Plain story", f"{base}/story/plain"),
        rss_item("Café story", f"{base}/story/café"),
        rss_item("Long link story", long_link),
    ]
    routes = {
        "edge-dates": Route(
            body=rss(
                "Edge",
                [
                    rss_item(
                        "Year 9999 in Brasília", "https://edge.example/1", published="Fri, 31 Dec 9999 23:00:00 BRT"
                    ),
                    rss_item("An ordinary date", "https://edge.example/2", published="Mon, 04 Mar 2024 10:00:00 GMT"),
                ],
            ),
            headers=FEED_TYPE,
        ),
        "odd-links": Route(body=rss("Odd", odd_links), headers=FEED_TYPE),
        "huge-max-age": Route(
            body=rss("Cached", [rss_item("Cached for ever", "https://cache.example/1")]),
            headers=FEED_TYPE | {"Cache-Control": "max-age=9999999999999"},
        ),
        "redirect-mailto": Route(status=302, headers={"Location": "mailto:editor@example.org"}),
        "redirect-data": Route(status=302, headers={"Location": "data:text/html,<script>alert(1)</script>"}),
        "full": Route(body=rss("Full", full), headers=FEED_TYPE),
        "odd-content-type": Route(
            body=rss("Odd type", [rss_item("A header S3 would refuse", "https://odd.example/1")]),
            headers={"Content-Type": "application/rss+xml; charset=utf-8; note=café"},
        ),
        "normal": Route(body=rss("Normal", [rss_item("The harbour strike ends", "https://normal.example/1")])),
    }
    for name, route in routes.items():
        feed_server.routes[f"/{name}.xml"] = route
    register_feeds(settings, feed_server, {name: f"/{name}.xml" for name in routes})
    busy_host.routes["/huge-retry-after.xml"] = Route(
        status=503, body=b"busy", headers={"Retry-After": "9999999999999"}
    )
    settings.sources_file.write_text(
        settings.sources_file.read_text() + '\n[[sources]]\nid = "huge-retry-after"\nkind = "feed"\n'
        f'url = "{busy_host.url("/huge-retry-after.xml")}"\nallow_private_network = true\n'
    )
    settings.sources_file.write_text(
        settings.sources_file.read_text().replace(
            f'url = "{feed_server.url("/full.xml")}"\n',
            f'url = "{feed_server.url("/full.xml")}"\nfetch_fulltext = true\n',
        )
    )
    settings = settings.model_copy(update={"max_shards": 1})  # every source in one shard

    _, report = stages.ingest(store, settings, "hostile-run")
    results = accounted(report)
    articles = _articles(store)

    assert results["normal"].stored == 1 and results["normal"].error is None
    assert results["odd-content-type"].stored == 1  # archived with a content type S3 accepts
    assert results["edge-dates"].stored == 2
    assert {a.title: a.date_flagged for a in articles["edge-dates"]} == {
        "Year 9999 in Brasília": True,
        "An ordinary date": False,
    }
    assert results["odd-links"].read == 3 and results["odd-links"].error is None
    assert {a.url for a in articles["odd-links"]} >= {"http://[2001:db8::1]:8080/story"}

    cached = _state(store, "huge-max-age")
    assert results["huge-max-age"].stored == 1 and cached.next_attempt_at is not None
    assert cached.next_attempt_at - report.finished_at < timedelta(days=366)
    busy = _state(store, "huge-retry-after")
    assert results["huge-retry-after"].error and busy.next_attempt_at is not None
    assert busy.next_attempt_at - report.finished_at <= timedelta(seconds=settings.fetch_backoff_cap * 1.21)
    for name in ("redirect-mailto", "redirect-data"):  # refused at the hop: the source's failure, no crash
        error = results[name].error or ""
        assert "only http(s) URLs are fetched" in error or "not a valid URL" in error, results[name]

    by_title = {a.title: a for a in articles["full"]}
    assert by_title["Plain story"].text_source == "page" and "long first paragraph" in by_title["Plain story"].text
    assert by_title["Café story"].text_source == "page" and by_title["Café story"].canonical_url is None
    assert by_title["Long link story"].text_source == "feed"  # too long to archive with its page: feed text
    assert results["full"].error is None


def test_another_sources_article_is_never_revised(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    link = "https://wire.example/story/1"
    feed_server.routes["/a.xml"] = Route(body=rss("A", [rss_item("The original report", link, "A's own text.")]))
    feed_server.routes["/b.xml"] = Route(body=rss("B", [rss_item("An impostor's version", link, "B's text.")]))
    register_feeds(settings, feed_server, {"a": "/a.xml"})
    stages.ingest(store, settings, "run-a")
    register_feeds(settings, feed_server, {"b": "/b.xml"})
    _, report = stages.ingest(store, settings, "run-b")
    results = accounted(report)
    assert (results["b"].stored, results["b"].duplicates) == (0, 1)
    assert len(stored_once(store)) == 1
    [only] = [Article.model_validate_json(store.get_bytes(k)) for k in store.list_keys("articles/")]
    assert (only.source, only.title, only.revision) == ("a", "The original report", 1)


def test_full_text_pages_obey_the_item_cap(settings: Settings, store: ObjectStore, feed_server: FeedServer) -> None:
    base = feed_server.url("")
    items = [rss_item(f"Story {n}", f"{base}/page/{n}") for n in range(40)]
    for n in range(40):
        feed_server.routes[f"/page/{n}"] = Route(body=_page(f"Story {n}", f"{base}/page/{n}"))
    feed_server.routes["/robots.txt"] = Route(status=404)
    feed_server.routes["/forty.xml"] = Route(body=rss("Forty", items))
    register_feeds(settings, feed_server, {"forty": "/forty.xml"})
    settings.sources_file.write_text(settings.sources_file.read_text() + "fetch_fulltext = true\nmax_items = 5\n")
    stages.ingest(store, settings, "run-1")
    assert sum(1 for seen in feed_server.requests if seen.path.startswith("/page/")) == 5


_FETCH_ONLY = """
import json, resource
from pipeline import stages
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
settings = Settings()
store = ObjectStore.from_settings(settings)
ids = [s.id for s in __import__("pipeline.sources", fromlist=["x"]).load_sources(settings).select()]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
results = stages.fetch_sources(store, settings, ids, "bombs")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"before_mb": before, "peak_mb": peak, "errors": {r.source: r.error for r in results}}))
"""


def test_compressed_bombs_over_http_stay_within_the_cap(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    zeros = bytes(128 * MIB)
    bombs = {
        "gzip": gzip.compress(zeros, 9),
        "br": brotli.compress(zeros),
        "zstd": zstandard.ZstdCompressor(level=19).compress(zeros),
        "gzip, gzip": gzip.compress(gzip.compress(zeros, 9), 9),
        "br, gzip": gzip.compress(brotli.compress(zeros), 9),
    }
    del zeros
    paths = {}
    for n, (coding, body) in enumerate(bombs.items()):
        feed_server.routes[f"/bomb{n}.xml"] = Route(body=body, headers=FEED_TYPE | {"Content-Encoding": coding})
        paths[f"bomb-{n}"] = f"/bomb{n}.xml"
    register_feeds(settings, feed_server, paths)
    outcome = last_json_line(run_python(settings, _FETCH_ONLY, NEWS_FETCH_CONCURRENCY="1"))
    assert all("exceeds 10485760" in (error or "") for error in outcome["errors"].values()), outcome
    cap_mb = settings.fetch_max_bytes // MIB
    assert outcome["peak_mb"] - outcome["before_mb"] < cap_mb + 32, outcome
    accept = {seen.headers.get("accept-encoding") for seen in feed_server.requests}
    assert accept == {"gzip, deflate, br, zstd"}, json.dumps(sorted(map(str, accept)))
