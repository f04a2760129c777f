"""Feed sources through the stages: real HTTP server, real SeaweedFS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline import stages
from pipeline.models import SourceState
from pipeline.settings import Settings
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import FEEDS
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds


def register(settings: Settings, server: FeedServer, *paths: str, allow: bool = True) -> None:
    """Feeds at these paths of the server, each a source named after its path ("/news.xml": news-xml)."""
    register_feeds(settings, server, {p.strip("/").replace(".", "-"): p for p in paths}, allow_private=allow)


def state(store: ObjectStore, source: str) -> SourceState:
    return SourceState.model_validate_json(store.get_bytes(state_key(source)))


def test_feeds_are_stored_unchanged_ones_skipped_and_failures_isolated(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/news.xml"] = Route(
        body=(FEEDS / "rss20-basic.xml").read_bytes(), headers={"Content-Type": "application/rss+xml"}, etag='"v1"'
    )
    feed_server.routes["/page.xml"] = Route(
        body=(FEEDS / "html-page.xml").read_bytes(), headers={"Content-Type": "text/html"}
    )
    feed_server.routes["/json.json"] = Route(body=(FEEDS / "jsonfeed-wrong-types.json").read_bytes())
    feed_server.routes["/broken.xml"] = Route(status=500)
    register(settings, feed_server, "/news.xml", "/page.xml", "/json.json", "/broken.xml")

    _, first = stages.ingest(store, settings, "run-1")
    results = accounted(first)
    assert (results["news-xml"].read, results["news-xml"].stored) == (2, 2)
    assert (results["page-xml"].read, results["page-xml"].quarantined) == (1, 1)
    assert (results["json-json"].read, results["json-json"].stored, results["json-json"].quarantined) == (4, 1, 3)
    assert "HTTP 500" in (results["broken-xml"].error or "")
    assert first.failed_sources == ["broken-xml"]
    assert len(list(store.list_keys("quarantine/"))) == 4
    broken = state(store, "broken-xml")
    assert (broken.health, broken.consecutive_failures, broken.last_status) == ("failing", 1, 500)
    assert broken.next_attempt_at is not None and broken.next_attempt_at > datetime.now(UTC)

    keys_before = set(store.list_keys(""))
    report_key, second = stages.ingest(store, settings, "run-2")
    results = accounted(second)
    assert (results["news-xml"].not_modified, results["news-xml"].read) == (1, 0)
    # A 304 archives nothing, and no stage stages anything: the run report is the one new object.
    assert set(store.list_keys("")) - keys_before == {report_key}
    [*_, last_news] = [r for r in feed_server.requests if r.path == "/news.xml"]
    assert last_news.headers.get("if-none-match") == '"v1"'
    assert results["broken-xml"].not_due_until is not None, "a failing source waits for its backoff"
    assert feed_server.hits("/broken.xml") == 1

    feed_server.routes["/broken.xml"] = Route(body=(FEEDS / "rss10-rdf.xml").read_bytes())
    _, third = stages.ingest(store, settings, "run-3", only=["broken-xml"], force=True)
    assert accounted(third)["broken-xml"].stored == 1
    recovered = state(store, "broken-xml")
    assert (recovered.health, recovered.consecutive_failures, recovered.last_error) == ("healthy", 0, None)


def test_retry_after_and_max_age_set_the_next_attempt(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/cached.xml"] = Route(
        body=(FEEDS / "rss091.xml").read_bytes(), headers={"Cache-Control": "max-age=3600"}
    )
    with FeedServer("127.0.0.33") as busy_host:  # a Retry-After pauses its whole host: the busy feed has its own
        busy_host.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "7200"})
        register(settings, busy_host, "/busy.xml")
        busy_source = settings.sources_file.read_text()
        register(settings, feed_server, "/cached.xml")
        settings.sources_file.write_text(busy_source + "\n" + settings.sources_file.read_text())
        stages.ingest(store, settings, "run-1")
        soon = datetime.now(UTC) + timedelta(minutes=50)
        busy, cached = state(store, "busy-xml"), state(store, "cached-xml")
        assert busy.next_attempt_at is not None and busy.next_attempt_at > datetime.now(UTC) + timedelta(seconds=7000)
        assert cached.next_attempt_at is not None and cached.next_attempt_at > soon

        _, again = stages.ingest(store, settings, "run-2")
        assert all(r.not_due_until for r in again.sources if r.source != "inbox")
        assert (busy_host.hits("/busy.xml"), feed_server.hits("/cached.xml")) == (1, 1)


def test_gone_feed_is_disabled(settings: Settings, store: ObjectStore, feed_server: FeedServer) -> None:
    feed_server.routes["/gone.xml"] = Route(status=410)
    register(settings, feed_server, "/gone.xml")
    stages.ingest(store, settings, "run-1")
    assert state(store, "gone-xml").health == "disabled"


def test_private_address_without_allow_is_refused_and_reported(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/news.xml"] = Route(body=(FEEDS / "rss20-basic.xml").read_bytes())
    register(settings, feed_server, "/news.xml", allow=False)
    _, report = stages.ingest(store, settings, "run-1")
    assert "not a public address" in (accounted(report)["news-xml"].error or "")
    assert feed_server.requests == []
    assert json.loads(store.get_bytes(state_key("news-xml")))["health"] == "failing"


def test_many_sources_on_one_host_share_a_shard(settings: Settings, feed_server: FeedServer) -> None:
    paths = [f"/f{i}.xml" for i in range(40)]
    register(settings, feed_server, *paths)
    shards = stages.plan_shards(settings)
    assert sorted(shards, key=len) == [["inbox"], sorted(p.strip("/").replace(".", "-") for p in paths)]


def test_sources_check_reports_reachability_and_health(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pipeline import cli

    feed_server.routes["/news.xml"] = Route(body=(FEEDS / "rss20-basic.xml").read_bytes())
    register(settings, feed_server, "/news.xml", "/missing.xml")
    stages.ingest(store, settings, "run-1")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["sources", "check"], env={"COLUMNS": "250"})
    assert result.exit_code == 1, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.startswith("│")}
    assert "HTTP 200" in lines["news-xml"] and "healthy (0 failures)" in lines["news-xml"]
    assert "HTTP 404" in lines["missing-xml"] and "failing (1 failures)" in lines["missing-xml"]


def test_fulltext_pages_follow_robots_txt_and_replace_feed_snippets(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    base = feed_server.url("")
    feed_server.routes["/full.xml"] = Route(
        body=(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Full</title>'
            f"<item><title>Open page</title><link>{base}/articles/open?utm_source=rss</link>"
            "<pubDate>Sun, 07 Jan 2024 10:00:00 GMT</pubDate><description>Snippet only.</description></item>"
            f"<item><title>Undated in the feed</title><link>{base}/articles/dated</link></item>"
            f"<item><title>Private page</title><link>{base}/private/secret</link>"
            "<pubDate>Sun, 07 Jan 2024 11:00:00 GMT</pubDate><description>Feed text kept.</description></item>"
            "</channel></rss>"
        ).encode()
    )
    feed_server.routes["/robots.txt"] = Route(body=b"User-agent: *\nDisallow: /private/\n")
    paragraph = "The full article page has much more to say than the snippet in the feed did, at length. "
    feed_server.routes["/articles/open?utm_source=rss"] = Route(
        body=(
            f'<html><head><link rel="canonical" href="{base}/articles/open"></head><body><nav>Home | News</nav>'
            f"<article><h1>Open page</h1><p>{paragraph * 3}</p><h2>Details</h2><p>{paragraph * 2}</p></article>"
            "<footer>Copyright</footer></body></html>"
        ).encode(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    feed_server.routes["/articles/dated"] = Route(
        body=(
            '<html><head><meta property="article:published_time" content="2024-01-05T09:00:00Z"></head><body>'
            f"<article><h1>Undated in the feed</h1><p>{paragraph * 3}</p></article></body></html>"
        ).encode(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    register(settings, feed_server, "/full.xml")
    settings.sources_file.write_text(settings.sources_file.read_text() + "fetch_fulltext = true\n")

    _, report = stages.ingest(store, settings, "run-1")
    assert accounted(report)["full-xml"].stored == 3
    assert feed_server.hits("/private/secret") == 0
    articles = {a["title"]: a for a in (json.loads(store.get_bytes(k)) for k in store.list_keys("articles/"))}
    assert articles["Open page"]["url"] == f"{base}/articles/open"
    assert "Details" in [s["heading"] for s in articles["Open page"]["sections"]]
    assert "Home | News" not in articles["Open page"]["text"] and "Snippet only." not in articles["Open page"]["text"]
    assert articles["Private page"]["text"] == "Feed text kept."
    dated = articles["Undated in the feed"]
    assert (dated["published_at"], dated["date_source"]) == ("2024-01-05T09:00:00Z", "page")  # the page's time
    assert any(k.endswith(".html") for k in store.list_keys("raw/full-xml/")), "the page is archived in raw/"


def test_one_failing_source_fails_nothing_but_all_failing_fail_the_run(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/ok.xml"] = Route(body=(FEEDS / "rss091.xml").read_bytes())
    feed_server.routes["/down.xml"] = Route(status=503)
    register(settings, feed_server, "/ok.xml", "/down.xml")
    _, some = stages.ingest(store, settings, "run-1")
    assert some.failed_sources == ["down-xml"] and not some.all_failed
    _, none = stages.ingest(store, settings, "run-2", only=["down-xml"], force=True)
    assert none.failed_sources == ["down-xml"] and none.all_failed


def test_each_source_is_polled_when_it_is_due(settings: Settings, store: ObjectStore, feed_server: FeedServer) -> None:
    scheduled = settings.model_copy(update={"poll_min_interval": 300.0, "poll_max_interval": 86400.0})
    hourly = rss("Hourly", [rss_item("A", "https://h.example/a")]).replace(b"<channel>", b"<channel><ttl>60</ttl>")
    days = [f"Mon, 0{d} Mar 2024 10:00:00 GMT" for d in (1, 3, 5)]  # an item every two days: polled daily
    slow = rss("Slow", [rss_item(f"S{d}", f"https://s.example/{d}", published=p) for d, p in enumerate(days)])
    feed_server.routes["/hourly.xml"] = Route(body=hourly, etag='"h"')
    feed_server.routes["/slow.xml"] = Route(body=slow, etag='"s"')
    feed_server.routes["/plain.xml"] = Route(body=rss("Plain", [rss_item("P", "https://p.example/1")]), etag='"p"')
    register_feeds(settings, feed_server, {"hourly": "/hourly.xml", "slow": "/slow.xml", "plain": "/plain.xml"})
    accounted(stages.ingest(store, scheduled, "run-1")[1])
    states = {s: SourceState.model_validate_json(store.get_bytes(state_key(s))) for s in ("hourly", "slow", "plain")}
    assert (states["hourly"].poll_interval, states["slow"].poll_interval) == (3600.0, 86400.0)
    assert states["plain"].poll_interval == 300.0  # no hint and one item: the shortest interval
    _, again = stages.ingest(store, scheduled, "run-2")
    assert all(r.not_due_until for r in again.sources if r.source != "inbox"), "nothing is due yet"
    _, forced = stages.ingest(store, scheduled, "run-3", force=True)
    assert all(r.not_due_until is None for r in forced.sources), "a forced run fetches every source"
