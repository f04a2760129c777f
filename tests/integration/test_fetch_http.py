"""The HTTP fetcher against a real server on 127.0.0.1 (sockets, not mocks)."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.errors import PermanentError, TransientError
from pipeline.fetch import (
    BlockedAddressError,
    Fetcher,
    FetchPolicy,
    FetchResponse,
    HttpStatusError,
    ResponseTooLargeError,
)
from pipeline.settings import HostPace
from tests.support.feedserver import FeedServer, Route

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def get(url: str, allow_private: bool = True, **kwargs: Any) -> FetchResponse:
    policy_fields = {k: kwargs.pop(k) for k in list(kwargs) if k in FetchPolicy.__dataclass_fields__}

    async def run() -> FetchResponse:
        async with Fetcher(FetchPolicy(per_host_delay=0, **policy_fields)) as fetcher:
            return await fetcher.get(url, allow_private=allow_private, **kwargs)

    return asyncio.run(run())


def test_ok_with_user_agent_and_cache_control(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=FEED, headers={"Cache-Control": "public, max-age=900"})
    response = get(feed_server.url("/feed"), user_agent="news-pipeline/1 (+https://example.org/contact)")
    assert (response.status, response.body, response.max_age) == (200, FEED, 900)
    assert feed_server.requests[0].headers["user-agent"] == "news-pipeline/1 (+https://example.org/contact)"


def test_conditional_get_gives_304(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(
        body=FEED, etag='"v1"', headers={"Last-Modified": "Sun, 07 Jan 2024 10:00:00 GMT"}
    )
    first = get(feed_server.url("/feed"))
    second = get(feed_server.url("/feed"), etag=first.headers["etag"], last_modified=first.headers["last-modified"])
    assert second.not_modified and second.body == b""
    sent = feed_server.requests[1].headers
    assert (sent["if-none-match"], sent["if-modified-since"]) == ('"v1"', "Sun, 07 Jan 2024 10:00:00 GMT")


def test_gzip_is_decoded(feed_server: FeedServer) -> None:
    feed_server.routes["/gz"] = Route(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert get(feed_server.url("/gz")).body == FEED


@pytest.mark.parametrize(("status", "permanent"), [(404, False), (410, True), (500, False), (503, False)])
def test_error_statuses(feed_server: FeedServer, status: int, permanent: bool) -> None:
    feed_server.routes["/x"] = Route(status=status, body=b"nope")
    with pytest.raises(HttpStatusError) as exc:
        get(feed_server.url("/x"))
    assert (exc.value.status, exc.value.permanent) == (status, permanent)


def test_429_retry_after_is_kept(feed_server: FeedServer) -> None:
    feed_server.routes["/busy"] = Route(status=429, headers={"Retry-After": "120"})
    with pytest.raises(HttpStatusError) as exc:
        get(feed_server.url("/busy"))
    assert exc.value.retry_after == 120


def test_read_timeout(feed_server: FeedServer) -> None:
    feed_server.routes["/slow"] = Route(body=FEED, delay=2)
    with pytest.raises(TransientError, match="timed out"):
        get(feed_server.url("/slow"), read_timeout=0.3)


def test_slow_drip_hits_the_total_timeout(feed_server: FeedServer) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(100):
            yield b"<"

    feed_server.routes["/drip"] = Route(body=drip, drip=0.1)
    with pytest.raises(TransientError, match="no complete response within"):
        get(feed_server.url("/drip"), read_timeout=1, total_timeout=1)


def test_declared_oversize_body_is_refused(feed_server: FeedServer) -> None:
    feed_server.routes["/big"] = Route(body=b"x" * 2_000_000)
    with pytest.raises(ResponseTooLargeError, match="exceeds 1000000"):
        get(feed_server.url("/big"), max_bytes=1_000_000)


def test_streamed_oversize_body_is_cut(feed_server: FeedServer) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):
            yield b"x" * 65536

    feed_server.routes["/stream"] = Route(body=endless)
    with pytest.raises(ResponseTooLargeError):
        get(feed_server.url("/stream"), max_bytes=1_000_000)
    # ...and the server did not get to send 650 MB: the client hung up.


def test_gzip_bomb_is_stopped_at_the_cap(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    assert len(bomb) < 300_000
    feed_server.routes["/bomb"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(ResponseTooLargeError):
        get(feed_server.url("/bomb"), max_bytes=5_000_000)


def test_redirects_are_followed_and_capped(feed_server: FeedServer) -> None:
    feed_server.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    feed_server.routes["/new"] = Route(body=FEED)
    response = get(feed_server.url("/old"))
    assert response.body == FEED and response.url.endswith("/new")

    feed_server.routes["/a"] = Route(status=302, headers={"Location": "/b"})
    feed_server.routes["/b"] = Route(status=302, headers={"Location": "/a"})
    with pytest.raises(PermanentError, match="more than 3 redirects"):
        get(feed_server.url("/a"), max_redirects=3)


def test_loopback_is_refused_without_connecting(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=FEED)
    with pytest.raises(BlockedAddressError, match="not a public address"):
        get(feed_server.url("/feed"), allow_private=False)
    with pytest.raises(BlockedAddressError, match="refused localhost"):
        get(f"http://localhost:{feed_server.port}/feed", allow_private=False)
    assert feed_server.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_without_connecting(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS pointing a public-looking name at 127.0.0.1 (or rebinding to it) changes nothing."""
    feed_server.routes["/feed"] = Route(body=FEED)
    real = socket.getaddrinfo

    def resolve(host: str, port: object, *args: object, **kwargs: object) -> Any:
        if host == "news.rebind.example":  # injected: tests send no DNS queries
            return real("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(BlockedAddressError, match="not a public address"):
        get(f"http://news.rebind.example:{feed_server.port}/feed", allow_private=False)
    assert feed_server.requests == []


def test_redirect_to_a_metadata_address_is_refused_even_when_private_is_allowed(feed_server: FeedServer) -> None:
    feed_server.routes["/r"] = Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254 is a link-local"):
        get(feed_server.url("/r"), allow_private=True)


def test_redirect_to_loopback_is_refused_without_connecting(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public feed answering with a redirect to 127.0.0.1 (private networks not allowed): the hop is refused."""
    from pipeline import fetch

    real = fetch.refusal

    def public_publisher(address: str, allow_private: bool) -> str | None:
        return None if address == "127.0.0.2" else real(address, allow_private)  # injected: "on the internet"

    monkeypatch.setattr(fetch, "refusal", public_publisher)
    feed_server.routes["/admin"] = Route(body=b"internal")
    with FeedServer("127.0.0.2") as publisher:
        publisher.routes["/feed"] = Route(status=302, headers={"Location": feed_server.url("/admin")})
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is not a public address"):
            get(publisher.url("/feed"), allow_private=False)
        assert [r.path for r in publisher.requests] == ["/feed"]  # the first hop was fetched
    assert feed_server.requests == []  # the redirect target never was


def test_only_http_urls(feed_server: FeedServer) -> None:
    with pytest.raises(PermanentError, match="only http"):
        get("file:///etc/passwd")


def test_dns_failure_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> None:  # injected: tests send no DNS queries
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(TransientError, match=r"cannot resolve feeds\.example\.org"):
        get("http://feeds.example.org/feed")


def _starts(feed_server: FeedServer, etag: str, policy: FetchPolicy, count: int = 6) -> list[float]:
    """When each of `count` conditional GETs of /feed, sent at once with `etag`, reached the server."""

    async def run() -> None:
        async with Fetcher(policy) as fetcher:
            url = feed_server.url("/feed")
            await asyncio.gather(*(fetcher.get(url, etag=etag, allow_private=True) for _ in range(count)))

    feed_server.requests.clear()
    asyncio.run(run())
    return sorted(seen.at for seen in feed_server.requests)


def test_304s_take_no_turn_at_their_host_unless_it_set_its_pace(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(body=FEED, etag='"v1"')
    polite = FetchPolicy(per_host_delay=1.0, per_host_concurrency=2)  # a start every 0.5 s
    unchanged = _starts(feed_server, '"v1"', polite)
    assert unchanged[-1] - unchanged[0] < 0.4, "an unchanged feed costs the host no turn"
    assert feed_server.most_in_flight <= 2

    changed = _starts(feed_server, '"v0"', polite)  # answered with a body: each takes its turn after all
    assert changed[-1] - changed[0] >= 1.9, changed

    host = feed_server.url("/").split("/")[2].split(":")[0]
    owned = FetchPolicy(per_host_concurrency=2, hosts={host: HostPace(delay=1.0)})  # a pace set for the host
    paced = _starts(feed_server, '"v1"', owned)
    assert paced[-1] - paced[0] >= 1.9, paced
