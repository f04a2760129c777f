"""HTTP with httpx: conditional GET, timeouts, a size cap, checked redirects, an SSRF guard, per-host politeness
and robots.txt."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from pipeline.decoding import ACCEPT_ENCODING, DecodedTooLargeError, decode_body
from pipeline.errors import PermanentError, PipelineError, TransientError
from pipeline.settings import HostPace, Settings

__all__ = [
    "BlockedAddressError",
    "FetchDeferred",
    "FetchPolicy",
    "FetchResponse",
    "Fetcher",
    "HttpStatusError",
    "ResponseTooLargeError",
    "RobotsRules",
    "UnresolvableHostError",
    "parse_max_age",
    "parse_retry_after",
    "redact",
    "refusal",
]

REDIRECTS = {301, 302, 303, 307, 308}


class BlockedAddressError(PermanentError):
    """The URL resolves to an address the pipeline may not contact (loopback, private, ...)."""


class ResponseTooLargeError(PermanentError):
    """The body (after decompression) exceeds the size cap."""


ROBOTS_MAX_BYTES = 512 * 1024
MAX_CRAWL_DELAY = 60.0  # seconds; a robots.txt asking for more is read as this
LONGEST_HINT = 365 * 86400.0  # seconds; a server's Retry-After or max-age beyond this is read as this


class FetchDeferred(PipelineError):
    """The run's fetch budget was spent before this request could start: fetch it in the next run."""


class UnresolvableHostError(TransientError):
    """The host name does not resolve: often a typo or a dead domain, so it weighs like a 404 in backoff."""


class HttpStatusError(TransientError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        """410 Gone says the feed is gone for good."""
        return self.status == 410


def _default(setting: str) -> Any:
    return Settings.model_fields[setting].default


@dataclass(frozen=True)
class FetchPolicy:
    """How requests are made; the defaults are those of `Settings` (`NEWS_FETCH_*`)."""

    user_agent: str = f"news-pipeline/{version('news-pipeline')}"
    max_bytes: int = _default("fetch_max_bytes")
    connect_timeout: float = _default("fetch_connect_timeout")
    read_timeout: float = _default("fetch_read_timeout")
    total_timeout: float = _default("fetch_timeout")
    max_redirects: int = _default("fetch_max_redirects")
    allow_private_networks: bool = _default("allow_private_networks")
    concurrency: int = _default("fetch_concurrency")
    per_host_concurrency: int = _default("fetch_per_host_concurrency")
    per_host_delay: float = _default("fetch_per_host_delay")
    hosts: Mapping[str, HostPace] = field(default_factory=dict)  # hosts you own, at a pace of their own

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        agent = cls.user_agent + (f" (+{settings.contact_url})" if settings.contact_url else "")
        return cls(
            user_agent=agent,
            max_bytes=settings.fetch_max_bytes,
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            total_timeout=settings.fetch_timeout,
            max_redirects=settings.fetch_max_redirects,
            allow_private_networks=settings.allow_private_networks,
            concurrency=settings.fetch_concurrency,
            per_host_concurrency=settings.fetch_per_host_concurrency,
            per_host_delay=settings.fetch_per_host_delay,
            hosts=dict(settings.fetch_hosts),
        )


@dataclass(frozen=True)
class FetchResponse:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    max_age: float | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# Never contacted, whatever `allow_private_networks` says: "this network", link-local, and the cloud metadata
# endpoints of AWS (both families), Azure and Alibaba.
_NEVER = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32", "100.100.100.200/32", "fe80::/10", "fd00:ec2::254/128")
)
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but routed like a private range where it is used
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: IPv4-mapped, 6to4, Teredo (the client) or NAT64."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str, allow_private: bool) -> str | None:
    """Why `address` may not be contacted, or None when it may.

    Loopback and private ranges are allowed on request (local feeds, tests). Link-local, cloud metadata
    endpoints, multicast, unspecified and reserved addresses never are, nor an IPv6 address that embeds one
    of them or loopback.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    for candidate in (ip, embedded):
        if candidate is not None and any(
            candidate in network for network in _NEVER if candidate.version == network.version
        ):
            return f"{ip} is a link-local, cloud metadata or 'this network' address: never fetched"
    if embedded is not None:
        if embedded.is_loopback:
            return f"{ip} embeds a loopback address"
        ip = embedded  # judged by the address it carries
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or (ip.is_reserved and not ip.is_loopback):
        return f"{ip} is a link-local, multicast, unspecified or reserved address"
    private = ip.is_loopback or ip.is_private or (isinstance(ip, ipaddress.IPv6Address) and ip in _SITE_LOCAL)
    if ip.is_global and not private:
        return None
    if allow_private and private:
        return None
    return (
        f"{ip} is not a public address (set NEWS_ALLOW_PRIVATE_NETWORKS=1 or allow_private_network "
        "on the source to permit loopback and private networks)"
    )


def redact(url: str) -> str:
    """`url` without the credentials it may carry (`https://user:secret@host/` -> `https://***@host/`): for
    messages, reports, state and archive metadata."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{tail}"


def _bounded_seconds(value: str) -> float | None:
    return min(float(value), LONGEST_HINT) if value.isdigit() else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), at most `LONGEST_HINT`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return _bounded_seconds(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(LONGEST_HINT, max(0.0, when.timestamp() - (now if now is not None else time.time())))


def parse_max_age(cache_control: str | None) -> float | None:
    """`max-age` of a Cache-Control header in seconds, at most `LONGEST_HINT`."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age":
            return _bounded_seconds(value.strip().strip('"'))
    return None


def _url(value: str | httpx.URL, base: httpx.URL | None = None) -> httpx.URL:
    """Parse (or resolve against `base`) a URL from a feed or a Location header; refuse what is not one."""
    try:
        url = base.join(value) if base is not None else httpx.URL(value)
        url.port  # noqa: B018 - a port such as 99999 or `abc` only fails when read
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise PermanentError(f"refused {redact(str(value))[:200]!r}: not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise PermanentError(f"refused {redact(str(url))[:200]}: only http(s) URLs are fetched")
    return url


class _HostGate:
    """At most `concurrency` requests at once to one host, each slot waiting `delay` seconds between its starts
    (so `concurrency` starts per `delay`), and a pause when the host asks for one (Retry-After on 429/503):
    every source on the host keeps its pace.

    A 304 that comes back before the next start was due gives its turn back: checking unchanged feeds costs
    the host next to nothing, so they are checked at the pace the host answers (one after another). A body,
    an error or a slow answer keeps the pace; and once the host sets its own (Crawl-delay, Retry-After, or
    settings for a host you own), every request keeps it.
    """

    def __init__(self, concurrency: int, delay: float, paced: bool = False) -> None:
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._given_back = asyncio.Event()
        self.spacing = delay / concurrency  # between any two starts
        self.paced = paced  # the host's own pace: a 304 keeps it too
        self._next_start = 0.0

    def pause(self, seconds: float) -> None:
        self.paced = True
        self._next_start = max(self._next_start, asyncio.get_running_loop().time() + seconds)

    def slow_down(self, spacing: float) -> None:
        self.paced = True
        self.spacing = max(self.spacing, spacing)

    @contextlib.asynccontextmanager
    async def slot(self, deadline: float | None) -> AsyncIterator[_Turn]:
        async with self._slots:
            async with self._lock:
                loop = asyncio.get_running_loop()
                while (wait := self._next_start - loop.time()) > 0:
                    if deadline is not None and time.monotonic() + wait > deadline:
                        raise FetchDeferred("the host asked to wait beyond the run's fetch budget")
                    self._given_back.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._given_back.wait(), wait)
                turn = _Turn(previous=self._next_start, reserved=loop.time() + self.spacing)
                self._next_start = turn.reserved
            try:
                yield turn
            finally:
                if turn.not_modified and not self.paced and self._next_start == turn.reserved:
                    self._next_start = turn.previous  # nobody started since: the next one need not wait
                    self._given_back.set()


@dataclass
class _Turn:
    """One request's turn at its host: the next start it reserved, and what that replaced."""

    previous: float
    reserved: float
    not_modified: bool = False


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading CA certificates takes a seventh of a second: once per process, not per batch or host."""
    return ssl.create_default_context()


class Fetcher:
    """One HTTP client for a batch of sources; use as `async with Fetcher(policy) as fetcher`."""

    def __init__(
        self, policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None, deadline: float | None = None
    ) -> None:
        self.policy = policy
        self.deadline = deadline  # time.monotonic() after which no request starts: FetchDeferred instead
        self._transport = transport
        self._global = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        """One small connection pool per host: httpcore's pool gets slow with hundreds of connections in one."""
        if host not in self._clients:
            self._clients[host] = httpx.AsyncClient(
                timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
                follow_redirects=False,  # every hop is checked by the SSRF guard first
                # Bodies are decoded here, not by httpx, so only codings decoded with a bounded output are asked for.
                headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
                limits=httpx.Limits(max_connections=self._gate(host).concurrency),
                transport=self._transport,
                verify=_tls_context(),
                trust_env=False,
            )
        return self._clients[host]

    def _gate(self, host: str) -> _HostGate:
        if host not in self._hosts:
            pace = self.policy.hosts.get(host) or HostPace()
            concurrency = self.policy.per_host_concurrency if pace.concurrency is None else pace.concurrency
            delay = self.policy.per_host_delay if pace.delay is None else pace.delay
            self._hosts[host] = _HostGate(concurrency, delay, paced=pace.delay is not None)
        return self._hosts[host]

    def slow_down(self, host: str, delay: float) -> None:
        """Space requests to `host` at least `delay` seconds apart (its robots.txt Crawl-delay)."""
        self._gate(host).slow_down(min(delay, MAX_CRAWL_DELAY))  # Crawl-delay: between any two requests

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    async def _resolve(self, host: str, port: int, allow_private: bool) -> str:
        """Resolve once and check every address; the request then goes to that address (no DNS rebinding)."""
        try:
            async with asyncio.timeout(self.policy.connect_timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnresolvableHostError(f"cannot resolve {host}: {exc.strerror}") from None
        except TimeoutError:
            raise TransientError(
                f"cannot resolve {host}: no answer within {self.policy.connect_timeout:.0f}s"
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise UnresolvableHostError(f"cannot resolve {host}: no address")
        # Every address must pass: a name with one public and one private record is refused.
        for address in addresses:
            reason = refusal(address, allow_private)
            if reason:
                raise BlockedAddressError(f"refused {host}: {reason}")
        return addresses[0]

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool = False,
        max_bytes: int | None = None,
    ) -> FetchResponse:
        """GET `url` conditionally, following checked redirects; raise on errors, caps and refused addresses.

        Timeouts count only time with a request in flight: waiting for the host's or the batch's turn does not.
        """
        allow_private = allow_private or self.policy.allow_private_networks
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        try:
            return await self._follow(url, conditional, allow_private, max_bytes or self.policy.max_bytes)
        except TimeoutError:
            raise TransientError(
                f"{redact(url)}: no complete response within {self.policy.total_timeout:.0f}s"
            ) from None
        except httpx.TimeoutException as exc:
            raise TransientError(f"{redact(url)}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{redact(url)}: {type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL as exc:
            raise PermanentError(f"{redact(url)}: not a valid URL ({exc})") from None

    async def _follow(self, url: str, headers: dict[str, str], allow_private: bool, max_bytes: int) -> FetchResponse:
        current = _url(url)
        in_flight = self.policy.total_timeout  # seconds left for requests in flight, redirects included
        loop = asyncio.get_running_loop()
        for _ in range(self.policy.max_redirects + 1):
            host = current.host
            port = current.port or (443 if current.scheme == "https" else 80)
            address = await self._resolve(host, port, allow_private)
            gate = self._gate(host)
            # The host's turn first, then a global slot: a busy host never holds slots the other hosts could use.
            async with gate.slot(self.deadline) as turn, self._global:
                if self.deadline is not None and time.monotonic() > self.deadline:
                    raise FetchDeferred(f"{redact(url)}: the run's fetch budget is spent")
                sent = loop.time()
                try:
                    async with asyncio.timeout(in_flight):
                        response = await self._request(current, address, headers, max_bytes)
                except HttpStatusError as exc:
                    if exc.status in (429, 503) and exc.retry_after:  # the host's own pace, for all its sources
                        gate.pause(exc.retry_after)
                    raise
                in_flight -= loop.time() - sent
                turn.not_modified = isinstance(response, FetchResponse) and response.not_modified
            if isinstance(response, httpx.URL):
                current = response
                continue
            return response
        raise PermanentError(f"{redact(url)}: more than {self.policy.max_redirects} redirects")

    async def _request(
        self, url: httpx.URL, address: str, headers: dict[str, str], max_bytes: int
    ) -> FetchResponse | httpx.URL:
        host_header = url.host if url.port is None else f"{url.host}:{url.port}"
        pinned = url.copy_with(host=address)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        client = self._client(url.host)
        request = client.build_request("GET", pinned, headers=headers | {"Host": host_header}, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status in REDIRECTS and "location" in response.headers:
                return _url(response.headers["location"], base=url)
            if status == 304:
                return FetchResponse(redact(str(url)), status, dict(response.headers))
            if status >= 300:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise HttpStatusError(f"{redact(str(url))}: HTTP {status}", status, retry_after)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLargeError(f"{redact(str(url))}: body of {declared} bytes exceeds {max_bytes}")
            raw = bytearray()
            async for chunk in response.aiter_raw():  # as sent: decoded below, with its output capped
                raw += chunk
                if len(raw) > max_bytes:
                    raise ResponseTooLargeError(f"{redact(str(url))}: body exceeds {max_bytes} bytes")
            try:
                body = decode_body(raw, response.headers.get("content-encoding"), max_bytes)
            except DecodedTooLargeError as exc:
                raise ResponseTooLargeError(f"{redact(str(url))}: {exc}") from None
            except PermanentError as exc:
                raise PermanentError(f"{redact(str(url))}: {exc}") from None
            return FetchResponse(
                redact(str(url)),
                status,
                dict(response.headers),
                body,
                parse_max_age(response.headers.get("cache-control")),
            )
        finally:
            await response.aclose()


class RobotsRules:
    """robots.txt of each host, fetched once per batch under the same rules as any other request."""

    def __init__(self, fetcher: Fetcher, user_agent: str) -> None:
        self._fetcher = fetcher
        self._agent = user_agent.split("/", 1)[0]
        self._parsers: dict[str, asyncio.Task[RobotFileParser | bool]] = {}

    async def _load(self, origin: str, allow_private: bool) -> RobotFileParser | bool:
        try:
            response = await self._fetcher.get(
                f"{origin}/robots.txt", allow_private=allow_private, max_bytes=ROBOTS_MAX_BYTES
            )
        except HttpStatusError as exc:
            # No robots.txt (4xx) allows everything; a server error or refusal means wait and see.
            return exc.status < 500 and exc.status not in (401, 403)
        except PipelineError:
            return False
        parser = RobotFileParser()
        lines = response.body.decode("utf-8", errors="replace").splitlines()
        await asyncio.to_thread(parser.parse, lines)  # a large file must not stall every other request
        delay = parser.crawl_delay(self._agent)
        if delay:
            self._fetcher.slow_down(urlsplit(origin).hostname or "", float(delay))
        return parser

    async def allowed(self, url: str, allow_private: bool = False) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._parsers:
            self._parsers[origin] = asyncio.create_task(self._load(origin, allow_private))
        rules = await asyncio.shield(self._parsers[origin])  # a caller's timeout must not cancel it for all
        return rules.can_fetch(self._agent, url) if isinstance(rules, RobotFileParser) else rules
