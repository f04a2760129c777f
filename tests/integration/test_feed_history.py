"""RFC 5005 feed history through the stages: an archived feed's `prev-archive` chain and a paged RSS feed's
`next` links, walked back to a date over a real HTTP server, stored in a real SeaweedFS."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from pipeline import cli, stages
from pipeline.fetch import Fetcher, FetchPolicy
from pipeline.models import Source
from pipeline.settings import Settings
from pipeline.sources.history import walk_history
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.sources import accounted, register_feeds

ATOM = "application/atom+xml"


def _atom(base: str, name: str, days: list[str], older: str | None, rel: str = "prev-archive") -> bytes:
    entries = "".join(
        f'<entry><title>{name} {day}</title><id>urn:{name}:{day}</id><link href="{base}/posts/{name}-{day}"/>'
        f'<updated>{day}T10:00:00Z</updated><content type="text">Story of {day} from the {name} page.</content>'
        "</entry>"
        for day in days
    )
    link = f'<link rel="{rel}" href="{base}{older}"/>' if older else ""
    return (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Archive</title><id>urn:a</id>'
        f"<updated>{days[0]}T10:00:00Z</updated>{link}{entries}</feed>"
    ).encode()


def _archived_feed(server: FeedServer) -> None:
    base = server.url("")
    pages = {
        "/feed.atom": ("current", ["2026-11-30", "2026-11-28"], "/archive/3"),
        "/archive/3": ("three", ["2026-11-20", "2026-11-18"], "/archive/2"),
        "/archive/2": ("two", ["2026-11-12", "2026-11-09"], "/archive/1"),
        "/archive/1": ("one", ["2026-11-02", "2026-11-01"], None),
    }
    for path, (name, days, older) in pages.items():
        server.routes[path] = Route(body=_atom(base, name, days, older), headers={"Content-Type": ATOM})


def _titles(store: ObjectStore) -> list[str]:
    return sorted(json.loads(store.get_bytes(k))["title"] for k in store.list_keys("articles/"))


def test_a_backfill_walks_prev_archive_links_back_to_the_date(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    _archived_feed(feed_server)
    register_feeds(settings, feed_server, {"archive": "/feed.atom"})

    _, plain = stages.ingest(store, settings, "run-1")
    assert accounted(plain)["archive"].stored == 2 and feed_server.hits("/archive/3") == 0

    _, backfill = stages.ingest(store, settings, "run-2", since=date(2026, 11, 10))
    result = accounted(backfill)["archive"]
    assert (result.read, result.stored, result.duplicates) == (6, 4, 2)  # the current page again, then 2 older
    assert [feed_server.hits(p) for p in ("/archive/3", "/archive/2", "/archive/1")] == [1, 1, 0]
    assert "two 2026-11-09" in _titles(store)  # the page that reaches past the date is read whole
    assert backfill.params["since"] == "2026-11-10"


def test_a_paged_rss_feed_follows_next_links_until_one_loops(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = feed_server.url("")

    def page(n: int) -> bytes:
        items = f"<item><title>Page {n}</title><link>{base}/p/{n}</link>"
        items += f"<pubDate>Mon, 0{n} Jun 2026 10:00:00 GMT</pubDate></item>"
        link = f'<atom:link rel="next" href="{base}/feed?page={n - 1}"/>' if n > 1 else ""
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>Paged</title>{link}{items}</channel></rss>"
        ).encode()

    feed_server.routes["/feed"] = Route(body=page(9))
    for n in range(1, 9):
        feed_server.routes[f"/feed?page={n}"] = Route(body=page(n))
    feed_server.routes["/feed?page=5"] = Route(body=page(5).replace(b"page=4", b"page=5"))  # a loop ends the walk
    register_feeds(settings, feed_server, {"paged": "/feed"})
    monkeypatch.setattr(cli, "get_settings", lambda: settings)

    result = CliRunner().invoke(cli.app, ["ingest", "--since", "2020-01-01"])
    assert result.exit_code == 0, result.output
    assert _titles(store) == [f"Page {n}" for n in range(5, 10)]
    assert feed_server.hits("/feed?page=5") == 1 and feed_server.hits("/feed?page=4") == 0


def test_the_walk_stops_at_the_page_limit(feed_server: FeedServer) -> None:
    _archived_feed(feed_server)
    source = Source.model_validate(
        {"id": "a", "kind": "feed", "url": feed_server.url("/feed.atom"), "allow_private_network": True}
    )

    async def walk() -> list[str]:
        async with Fetcher(FetchPolicy()) as fetcher:
            first = await fetcher.get(str(source.url), allow_private=True)
            return [p.url for p in await walk_history(fetcher, source, first, date(2000, 1, 1), max_pages=2)]

    assert asyncio.run(walk()) == [feed_server.url("/archive/3"), feed_server.url("/archive/2")]
    assert feed_server.hits("/archive/1") == 0
