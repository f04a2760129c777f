"""WebSub (W3C Recommendation) subscriptions: hub discovery, subscribing and renewing, intent verification,
signed pushes stored under the bucket's push inbox and claimed for ingestion.

Keys: `state/websub/{source}.json` holds a source's subscription (its secret too: never logged, never in XCom);
a push lands under `{prefix}new/{source}/`, the push trigger moves it to `{prefix}pending/{source}/`, and the
store stage moves it to `{prefix}processed/{source}/` once its articles are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import socket
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit

import httpx
from pydantic import AwareDatetime, BaseModel, Field

from pipeline.errors import PermanentError, TransientError
from pipeline.fetch import refusal

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.storage.store import ObjectStore

__all__ = [
    "Subscription",
    "SubscriptionStatus",
    "answer_intent",
    "claim_pushes",
    "discover_hub",
    "load_subscriptions",
    "pending_pushes",
    "polled_by_push",
    "processed_push_key",
    "request_subscription",
    "save_subscription",
    "store_push",
    "subscription_due",
    "verify_signature",
]

SUBSCRIPTION_PREFIX = "state/websub/"
NEW, PENDING, PROCESSED = "new/", "pending/", "processed/"
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_STAMP = "%Y%m%dT%H%M%S%fZ"
_LINK_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?link\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.IGNORECASE)
DISCOVERY_BYTES = 64 * 1024  # a feed's own links come before its items


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # asked for; the hub has not verified it yet
    ACTIVE = "active"  # verified: pushes are accepted until the lease ends
    DENIED = "denied"  # the hub refused it


class Subscription(BaseModel):
    """One source's subscription at its hub: state/websub/{source}.json."""

    source: str
    hub: str
    topic: str
    callback: str
    secret: str = Field(repr=False, description="HMAC key of the pushes; random per subscription.")
    status: SubscriptionStatus = SubscriptionStatus.PENDING
    lease_seconds: int | None = None
    requested_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    reason: str | None = Field(None, description="Why the hub denied it, or why the last request failed.")


def subscription_key(source: str) -> str:
    return f"{SUBSCRIPTION_PREFIX}{source}.json"


def load_subscription(store: ObjectStore, source: str) -> Subscription | None:
    data = store.get_bytes_or_none(subscription_key(source))
    return Subscription.model_validate_json(data) if data else None


def load_subscriptions(store: ObjectStore) -> dict[str, Subscription]:
    """Every recorded subscription, by source."""
    found = {}
    for key in store.list_keys(SUBSCRIPTION_PREFIX):
        data = store.get_bytes_or_none(key)
        if data:
            subscription = Subscription.model_validate_json(data)
            found[subscription.source] = subscription
    return found


def save_subscription(store: ObjectStore, subscription: Subscription) -> None:
    store.put_json(subscription_key(subscription.source), subscription.model_dump(mode="json"))


def discover_hub(body: bytes, headers: dict[str, str], url: str) -> tuple[str, str] | None:
    """The feed's hub and topic (its `self` URL, else `url`): from the HTTP `Link` header first, then the
    feed's own `<link rel="hub">` / `atom:link`, or a JSON Feed's `hubs`; None when it names no http(s) hub."""
    hub = topic = None
    for target, rels in _header_links(headers.get("link") or headers.get("Link") or ""):
        hub = hub or (target if "hub" in rels else None)
        topic = topic or (target if "self" in rels else None)
    if body.lstrip()[:1] == b"{":
        hub = hub or _json_hub(body)
    else:
        for tag in _LINK_TAG.finditer(body[:DISCOVERY_BYTES]):
            attributes = {
                m[1].decode("ascii", "replace").lower(): (m[2] or m[3] or b"").decode("utf-8", "replace")
                for m in _ATTRIBUTE.finditer(tag[1])
            }
            tag_rels = attributes.get("rel", "").lower().split()
            href = attributes.get("href", "").strip()
            if href and "hub" in tag_rels:
                hub = hub or href
            if href and "self" in tag_rels:
                topic = topic or href
    if not hub:
        return None
    hub, topic = urljoin(url, hub), urljoin(url, topic or url)
    if urlsplit(hub).scheme not in ("http", "https") or urlsplit(topic).scheme not in ("http", "https"):
        return None
    return hub, topic


def _header_links(value: str) -> list[tuple[str, set[str]]]:
    links = []
    for match in _LINK_HEADER.finditer(value):
        rel = _REL.search(match[2])
        if rel:
            links.append((match[1].strip(), set((rel[1] or rel[2] or rel[3]).lower().split())))
    return links


def _json_hub(body: bytes) -> str | None:
    try:
        hubs = json.loads(body).get("hubs") or []
    except (ValueError, AttributeError):
        return None
    for hub in hubs if isinstance(hubs, list) else []:
        if isinstance(hub, dict) and str(hub.get("type", "")).lower() == "websub" and isinstance(hub.get("url"), str):
            return str(hub["url"])
    return None


def subscription_due(
    subscription: Subscription | None, hub: str, topic: str, now: datetime, settings: Settings
) -> bool:
    """Whether to ask the hub (again): never asked, another hub or topic, denied or unverified for a lease's
    margin, or a lease ending within the margin (plus the fallback poll interval, as renewal happens on polls)."""
    if subscription is None or (subscription.hub, subscription.topic) != (hub, topic):
        return True
    margin = timedelta(seconds=settings.websub_renew_margin)
    if subscription.status is not SubscriptionStatus.ACTIVE or subscription.expires_at is None:
        return now - subscription.requested_at > margin
    return subscription.expires_at - now < margin + timedelta(seconds=settings.websub_poll_interval)


def polled_by_push(
    subscription: Subscription | None, last_success: datetime | None, now: datetime, settings: Settings
) -> bool:
    """Whether a source's hub pushes its new items, so polling it now would be early: an active, unexpired
    subscription and a poll within the fallback interval."""
    if subscription is None or subscription.status is not SubscriptionStatus.ACTIVE or last_success is None:
        return False
    if subscription.expires_at is None or subscription.expires_at <= now:
        return False
    return now - last_success < timedelta(seconds=settings.websub_poll_interval)


async def request_subscription(
    store: ObjectStore,
    settings: Settings,
    source: str,
    hub: str,
    topic: str,
    previous: Subscription | None,
    now: datetime,
    allow_private: bool = False,
) -> Subscription:
    """Record the subscription as pending (the hub may verify before it answers), then ask the hub for it.

    A renewal keeps its secret, so pushes signed before the hub has the new lease still verify.
    """
    assert settings.websub_callback_url, "no callback URL: no subscriptions"
    kept = previous if previous is not None and (previous.hub, previous.topic) == (hub, topic) else None
    subscription = Subscription(
        source=source,
        hub=hub,
        topic=topic,
        callback=f"{settings.websub_callback_url.rstrip('/')}/{quote(source, safe='')}",
        secret=kept.secret if kept else secrets.token_hex(32),
        status=kept.status if kept and kept.status is SubscriptionStatus.ACTIVE else SubscriptionStatus.PENDING,
        lease_seconds=kept.lease_seconds if kept else None,
        expires_at=kept.expires_at if kept else None,
        requested_at=now,
    )
    address = await _checked_address(
        hub, allow_private or settings.allow_private_networks, settings.fetch_connect_timeout
    )
    await asyncio.to_thread(save_subscription, store, subscription)
    form = {
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.callback": subscription.callback,
        "hub.secret": subscription.secret,
        "hub.lease_seconds": str(settings.websub_lease_seconds),
    }
    url = httpx.URL(hub)
    # To the address just checked (no DNS rebinding), under the hub's own name and TLS server name.
    pinned = url.copy_with(host=address)
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    async with httpx.AsyncClient(timeout=settings.fetch_timeout, follow_redirects=False, trust_env=False) as client:
        try:
            request = client.build_request("POST", pinned, data=form, headers={"Host": host}, extensions=extensions)
            response = await client.send(request)
        except httpx.HTTPError as exc:
            raise TransientError(f"hub {hub}: {type(exc).__name__}") from None
    if response.status_code >= 300:  # 202 Accepted is the answer the Recommendation gives
        raise PermanentError(f"hub {hub}: HTTP {response.status_code} to the subscription request")
    return subscription


async def _checked_address(url: str, allow_private: bool, timeout: float) -> str:
    """The hub's address, every one of them checked: a loopback or private one is refused unless allowed (the
    same guard as fetching)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentError(f"hub {url}: not an http(s) URL")
    try:
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        raise TransientError(f"hub {url}: cannot resolve {parts.hostname}") from None
    for info in infos:
        reason = refusal(str(info[4][0]), allow_private)
        if reason:
            raise PermanentError(f"hub {url}: refused: {reason}")
    return str(infos[0][4][0])


def answer_intent(store: ObjectStore, source: str, query: dict[str, str], now: datetime | None = None) -> str | None:
    """Answer a hub's GET to the callback: the challenge for a subscription the pipeline asked for (pending or
    active, same topic), recording its lease; '' for a denial it records; None (a 404) for anything else."""
    subscription = load_subscription(store, source)
    mode, topic = query.get("hub.mode"), query.get("hub.topic")
    if subscription is None or topic != subscription.topic:
        return None
    now = now or datetime.now(UTC)
    if mode == "denied":
        denied = {"status": SubscriptionStatus.DENIED, "reason": (query.get("hub.reason") or "")[:500] or None}
        save_subscription(store, subscription.model_copy(update=denied))
        return ""
    challenge = query.get("hub.challenge")
    if mode != "subscribe" or not challenge or subscription.status is SubscriptionStatus.DENIED:
        return None  # the pipeline never unsubscribes: an unsubscribe is not its own
    try:
        lease = int(query.get("hub.lease_seconds") or 0) or None
    except ValueError:
        return None
    active = {
        "status": SubscriptionStatus.ACTIVE,
        "lease_seconds": lease,
        # No lease given: the hub keeps it as long as it likes; renew it after our own lease anyway.
        "expires_at": now + timedelta(seconds=lease or subscription.lease_seconds or 864000),
        "reason": None,
    }
    save_subscription(store, subscription.model_copy(update=active))
    return challenge


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature` (`method=hex`, sha1/sha256/sha384/sha512) is the HMAC of `body` with `secret`."""
    if not header or "=" not in header:
        return False
    method, _, given = header.strip().partition("=")
    digest = HASHES.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def store_push(
    store: ObjectStore,
    prefix: str,
    source: str,
    body: bytes,
    content_type: str | None,
    signature: str | None,
    now: datetime | None = None,
) -> str | None:
    """Store a push for its source's active subscription when its signature is right; its key, else None."""
    subscription = load_subscription(store, source)
    if subscription is None or subscription.status is not SubscriptionStatus.ACTIVE:
        return None
    if not verify_signature(subscription.secret, body, signature):
        return None
    now = now or datetime.now(UTC)
    name = f"{now.astimezone(UTC).strftime(_STAMP)}-{hashlib.sha256(body).hexdigest()[:16]}"
    key = f"{prefix}{NEW}{source}/{name}"
    metadata = {"url": subscription.topic}
    content_type = (content_type or "").strip()
    if not re.fullmatch(r"[\x20-\x7e]{1,200}", content_type):
        content_type = "application/octet-stream"
    store.put_bytes(key, body, content_type, metadata)
    return key


def claim_pushes(store: ObjectStore, prefix: str) -> list[str]:
    """Move every push newly stored under `new/` to `pending/`; return the new keys (one event each)."""
    claimed = []
    for key in list(store.list_keys(prefix + NEW)):
        target = prefix + PENDING + key.removeprefix(prefix + NEW)
        store.move(key, target)
        claimed.append(target)
    return claimed


def pending_pushes(store: ObjectStore, prefix: str) -> dict[str, list[str]]:
    """Claimed pushes not yet stored, by source, oldest first."""
    found: dict[str, list[str]] = {}
    for key in sorted(store.list_keys(prefix + PENDING)):
        source, _, name = key.removeprefix(prefix + PENDING).partition("/")
        if name:
            found.setdefault(source, []).append(key)
    return found


def processed_push_key(prefix: str, key: str) -> str:
    return prefix + PROCESSED + key.removeprefix(prefix + PENDING)


def push_source(payload: object) -> str | None:
    """The source an asset event of the push watcher names."""
    if isinstance(payload, dict):
        inner = payload.get("payload", payload)
        if isinstance(inner, dict) and isinstance(inner.get("source"), str):
            return str(inner["source"])
    return None
