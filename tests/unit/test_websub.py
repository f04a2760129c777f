"""WebSub without a network: hub discovery, signatures, and when to subscribe, renew or poll."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.settings import Settings
from pipeline.sources.websub import (
    Subscription,
    SubscriptionStatus,
    discover_hub,
    polled_by_push,
    push_source,
    subscription_due,
    verify_signature,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SETTINGS = Settings(websub_callback_url="https://news.example/news-websub/callback")
ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel='hub' href='https://hub.example/'/><link href="/feed.atom" rel="self" type="application/atom+xml"/>
<entry><link rel="hub" href="https://elsewhere.example/"/></entry></feed>"""
RSS = b"""<rss xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<atom:link rel="hub" href="http://hub.example/h"/></channel></rss>"""


def test_hub_and_self_are_found_in_the_feed_relative_to_its_url() -> None:
    assert discover_hub(ATOM, {}, "https://site.example/x/feed") == (
        "https://hub.example/",
        "https://site.example/feed.atom",
    )


def test_an_rss_feed_without_self_has_its_own_url_as_topic() -> None:
    assert discover_hub(RSS, {}, "https://site.example/rss") == ("http://hub.example/h", "https://site.example/rss")


def test_the_link_header_comes_first_and_json_feed_hubs_are_read() -> None:
    headers = {"link": '<https://push.example/>; rel="hub", <https://site.example/canonical>; rel="self"'}
    assert discover_hub(ATOM, headers, "https://site.example/feed") == (
        "https://push.example/",
        "https://site.example/canonical",
    )
    json_feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "hubs": [{"type": "WebSub", "url": "https://h.example/"}]}'
    )
    assert discover_hub(json_feed, {}, "https://site.example/feed.json") == (
        "https://h.example/",
        "https://site.example/feed.json",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<rss><channel><title>no hub</title></channel></rss>",
        b"<feed><link rel='hub' href='ftp://hub/'/></feed>",
        b"{]",
    ],
)
def test_no_http_hub_no_subscription(body: bytes) -> None:
    assert discover_hub(body, {}, "https://site.example/feed") is None


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_every_signature_method_of_the_recommendation_verifies(method: str) -> None:
    body = b"<feed/>"
    signature = f"{method}={hmac.new(b'secret', body, method).hexdigest()}"
    assert verify_signature("secret", body, signature)
    assert not verify_signature("other", body, signature)
    assert not verify_signature("secret", body + b" ", signature)


@pytest.mark.parametrize("header", [None, "", "sha256", "md5=" + "0" * 32, "sha256=zz"])
def test_a_missing_unknown_or_malformed_signature_is_refused(header: str | None) -> None:
    assert not verify_signature("secret", b"x", header)


def subscription(status: SubscriptionStatus, expires_in: float | None, asked_ago: float = 0) -> Subscription:
    return Subscription(
        source="s",
        hub="https://hub.example/",
        topic="https://site.example/feed",
        callback="https://news.example/news-websub/callback/s",
        secret="k" * 64,
        status=status,
        requested_at=NOW - timedelta(seconds=asked_ago),
        expires_at=NOW + timedelta(seconds=expires_in) if expires_in is not None else None,
    )


def test_subscribing_and_renewing_before_the_lease_ends() -> None:
    hub, topic = "https://hub.example/", "https://site.example/feed"
    assert subscription_due(None, hub, topic, NOW, SETTINGS), "never asked"
    far = subscription(SubscriptionStatus.ACTIVE, expires_in=10 * 86400)
    assert not subscription_due(far, hub, topic, NOW, SETTINGS)
    assert subscription_due(far, "https://new-hub.example/", topic, NOW, SETTINGS), "the feed moved hubs"
    # Renewal happens on polls: a lease ending before the next fallback poll plus the margin is renewed now.
    soon = SETTINGS.websub_renew_margin + SETTINGS.websub_poll_interval - 60
    assert subscription_due(subscription(SubscriptionStatus.ACTIVE, expires_in=soon), hub, topic, NOW, SETTINGS)
    assert not subscription_due(subscription(SubscriptionStatus.PENDING, None, asked_ago=60), hub, topic, NOW, SETTINGS)
    assert subscription_due(
        subscription(SubscriptionStatus.PENDING, None, asked_ago=2 * 86400), hub, topic, NOW, SETTINGS
    )
    assert subscription_due(
        subscription(SubscriptionStatus.DENIED, None, asked_ago=2 * 86400), hub, topic, NOW, SETTINGS
    )


def test_a_pushed_feed_is_polled_only_at_the_fallback_interval() -> None:
    active = subscription(SubscriptionStatus.ACTIVE, expires_in=86400)
    assert polled_by_push(active, NOW - timedelta(hours=1), NOW, SETTINGS)
    assert not polled_by_push(active, NOW - timedelta(seconds=SETTINGS.websub_poll_interval + 1), NOW, SETTINGS)
    assert not polled_by_push(subscription(SubscriptionStatus.ACTIVE, expires_in=-1), NOW, NOW, SETTINGS), "lapsed"
    assert not polled_by_push(subscription(SubscriptionStatus.PENDING, None), NOW, NOW, SETTINGS)
    assert not polled_by_push(None, NOW, NOW, SETTINGS)


def test_the_secret_never_shows_in_a_repr() -> None:
    assert "k" * 64 not in repr(subscription(SubscriptionStatus.ACTIVE, 1))


def test_a_push_event_names_its_source() -> None:
    assert push_source({"from_trigger": True, "payload": {"key": "pushes/pending/s/x", "source": "s"}}) == "s"
    assert push_source({"dates": []}) is None
