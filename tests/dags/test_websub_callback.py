"""WebSub through the plugin's real callback (served by uvicorn) and a hub of the test's own: the fetch stage
subscribes, the hub verifies intent, signed pushes are stored and ingested, unsigned or wrong ones refused."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import httpx
import pytest

from pipeline import stages
from pipeline.errors import PermanentError
from pipeline.settings import Settings, get_settings
from pipeline.sources.websub import SubscriptionStatus, claim_pushes, load_subscription, request_subscription
from pipeline.storage.store import ObjectStore
from tests.support.airflow import point_airflow_at
from tests.support.asgi import serve_app
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import ROOT
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds
from tests.support.websub_hub import Hub

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def feed(hub: Hub | str, server: FeedServer, *items: str) -> bytes:
    hub = hub if isinstance(hub, str) else hub.url
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{server.url("/news.xml")}"/>'
    return rss("Pushed news", items).replace(
        b"<channel>", b'<channel xmlns:atom="http://www.w3.org/2005/Atom">' + links.encode(), 1
    )


def test_subscribe_verify_push_and_ingest(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "plugins"))
    from news_websub import websub_app

    with Hub() as hub, FeedServer("127.0.0.2") as server, serve_app(websub_app, "127.0.0.4") as base:
        callback = f"{base}/callback"
        point_airflow_at(settings, monkeypatch)
        monkeypatch.setenv("NEWS_WEBSUB_CALLBACK_URL", callback)
        get_settings.cache_clear()
        settings = get_settings()
        store = ObjectStore.from_settings(settings)
        server.routes["/news.xml"] = Route(
            body=feed(
                hub,
                server,
                rss_item("Polled", "https://site.example/polled", "Polled text.", "Sun, 01 Mar 2026 08:00:00 GMT"),
            ),
            headers={"Content-Type": "application/rss+xml"},
        )
        item = rss_item("Hub gone", "https://site.example/gone", "Its hub is gone.", "Sun, 01 Mar 2026 07:00:00 GMT")
        server.routes["/gone.xml"] = Route(body=feed("http://127.0.0.9:9/", server, item))
        register_feeds(settings, server, {"pushed": "/news.xml", "hub-gone": "/gone.xml"})

        _, first = stages.ingest(store, settings, "run-1")
        assert accounted(first)["pushed"].stored == 1
        assert accounted(first)["hub-gone"].stored == 1, "a hub that cannot be reached fails no source"
        [asked] = hub.requests
        assert (asked["hub.topic"], asked["hub.callback"]) == (server.url("/news.xml"), f"{callback}/pushed")
        assert len(asked["hub.secret"]) >= 32 and asked["hub.lease_seconds"] == str(settings.websub_lease_seconds)
        assert hub.verified.wait(10), "the hub verified intent through the callback"
        subscription = load_subscription(store, "pushed")
        assert subscription is not None and subscription.status is SubscriptionStatus.ACTIVE
        assert subscription.lease_seconds == hub.lease_seconds

        with pytest.raises(PermanentError, match="refused"):  # a hub on loopback needs allow_private_network
            asyncio.run(request_subscription(store, settings, "other", hub.url, "https://o.example/", None, NOW))
        assert load_subscription(store, "other") is None and len(hub.requests) == 1

        # Intent is confirmed only for what the pipeline asked for.
        assert hub.ask(f"{callback}/pushed", "subscribe", "https://other.example/feed", 60) is None
        assert hub.ask(f"{callback}/unknown", "subscribe", server.url("/news.xml"), 60) is None
        assert hub.ask(f"{callback}/pushed", "unsubscribe", server.url("/news.xml")) is None

        topic = server.url("/news.xml")
        pushed = feed(
            hub,
            server,
            rss_item("Pushed", "https://site.example/pushed", "Pushed text.", "Sun, 01 Mar 2026 09:00:00 GMT"),
        )
        assert hub.push(topic, pushed, "application/rss+xml", signing="none") == 403
        assert hub.push(topic, pushed, "application/rss+xml", signing="wrong") == 403
        assert hub.push(topic, pushed, "application/rss+xml", signing="sha512") == 202
        assert httpx.put(f"{callback}/pushed", content=pushed).status_code == 405, (
            "the callback takes GET and POST only"
        )
        assert httpx.post(f"{callback}/pushed", content=b"x" * (settings.websub_max_body + 1)).status_code == 413
        assert httpx.get(f"{base}/subscriptions").status_code in (401, 403), "the listing needs Airflow's sign-in"
        assert httpx.get(f"{base}/docs").status_code == 404

        [claimed] = claim_pushes(store, settings.websub_push_prefix)
        polls = server.hits("/news.xml")
        _, second = stages.ingest(store, settings, "run-2", only=["pushed"])
        assert accounted(second)["pushed"].stored == 1, "the pushed item, as the feed's content"
        assert server.hits("/news.xml") == polls, "a push replaces the poll"
        assert list(store.list_keys(settings.websub_push_prefix)) == [claimed.replace("/pending/", "/processed/")]

        _, third = stages.ingest(store, settings, "run-3", only=["pushed"])
        assert accounted(third)["pushed"].not_due_until is not None, "polled only at the fallback interval"

        assert hub.deny(f"{callback}/pushed", topic, "over quota") == 200
        denied = load_subscription(store, "pushed")
        assert denied is not None and (denied.status, denied.reason) == (SubscriptionStatus.DENIED, "over quota")
        assert hub.push(topic, pushed, "application/rss+xml") == 403, "no pushes once denied"
    get_settings.cache_clear()
