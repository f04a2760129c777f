"""HTTP with httpx: conditional GET, timeouts, a size cap, checked redirects, an SSRF guard, per-host politeness
and robots.txt."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from pipeline.errors import PermanentError, PipelineError, TransientError
from pipeline.settings import Settings

__all__ = [
    "BlockedAddressError",
    "FetchPolicy",
    "FetchResponse",
    "Fetcher",
    "HttpStatusError",
    "ResponseTooLargeError",
    "RobotsRules",
    "parse_max_age",
    "parse_retry_after",
    "refusal",
]

REDIRECTS = {301, 302, 303, 307, 308}


class BlockedAddressError(PermanentError):
    """The URL resolves to an address the pipeline may not contact (loopback, private, ...)."""


class ResponseTooLargeError(PermanentError):
    """The body (after decompression) exceeds the size cap."""


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


def refusal(address: str, allow_private: bool) -> str | None:
    """Why `address` may not be contacted, or None when it may.

    Loopback and private ranges are allowed on request (local feeds, tests); link-local (cloud metadata
    endpoints), multicast, unspecified and reserved addresses never are.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or (ip.is_reserved and not ip.is_loopback):
        return f"{ip} is a link-local, multicast, unspecified or reserved address"
    if ip.is_global:
        return None
    if allow_private and (ip.is_loopback or ip.is_private):
        return None
    return (
        f"{ip} is not a public address (set NEWS_ALLOW_PRIVATE_NETWORKS=1 or allow_private_network "
        "on the source to permit loopback and private networks)"
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def parse_max_age(cache_control: str | None) -> float | None:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return float(value)
    return None


class _HostGate:
    """At most `concurrency` requests at once to one host, and starts spaced by `delay` seconds."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._delay = delay
        self._next_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            if self._delay > 0:
                async with self._lock:
                    loop = asyncio.get_running_loop()
                    wait = self._next_start - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    self._next_start = loop.time() + self._delay
            yield


class Fetcher:
    """One HTTP client for a batch of sources; use as `async with Fetcher(policy) as fetcher`."""

    def __init__(self, policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._transport = transport
        self._tls = ssl.create_default_context()  # loading CA certificates is slow: once per batch
        self._global = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        """One small connection pool per host: httpcore's pool gets slow with hundreds of connections in one."""
        if host not in self._clients:
            self._clients[host] = httpx.AsyncClient(
                timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
                follow_redirects=False,  # every hop is checked by the SSRF guard first
                headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": "gzip, deflate, br, zstd"},
                limits=httpx.Limits(max_connections=self.policy.per_host_concurrency),
                transport=self._transport,
                verify=self._tls,
                trust_env=False,
            )
        return self._clients[host]

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    async def _resolve(self, host: str, port: int, allow_private: bool) -> str:
        """Resolve once and check every address; the request then goes to that address (no DNS rebinding)."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise TransientError(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise TransientError(f"cannot resolve {host}: no address")
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
    ) -> FetchResponse:
        """GET `url` conditionally, following checked redirects; raise on errors, caps and refused addresses."""
        allow_private = allow_private or self.policy.allow_private_networks
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                return await self._follow(url, conditional, allow_private)
        except TimeoutError:
            raise TransientError(f"{url}: no complete response within {self.policy.total_timeout:.0f}s") from None
        except httpx.TimeoutException as exc:
            raise TransientError(f"{url}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{url}: {type(exc).__name__}: {exc}") from None

    async def _follow(self, url: str, headers: dict[str, str], allow_private: bool) -> FetchResponse:
        current = httpx.URL(url)
        for _ in range(self.policy.max_redirects + 1):
            if current.scheme not in ("http", "https") or not current.host:
                raise PermanentError(f"refused {current}: only http(s) URLs are fetched")
            port = current.port or (443 if current.scheme == "https" else 80)
            address = await self._resolve(current.host, port, allow_private)
            gate = self._hosts.setdefault(
                current.host, _HostGate(self.policy.per_host_concurrency, self.policy.per_host_delay)
            )
            async with self._global, gate.slot():
                response = await self._request(current, address, headers)
            if isinstance(response, httpx.URL):
                current = response
                continue
            return response
        raise PermanentError(f"{url}: more than {self.policy.max_redirects} redirects")

    async def _request(self, url: httpx.URL, address: str, headers: dict[str, str]) -> FetchResponse | httpx.URL:
        host_header = url.host if url.port is None else f"{url.host}:{url.port}"
        pinned = url.copy_with(host=address)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        client = self._client(url.host)
        request = client.build_request("GET", pinned, headers=headers | {"Host": host_header}, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status in REDIRECTS and "location" in response.headers:
                return url.join(response.headers["location"])
            if status == 304:
                return FetchResponse(str(url), status, dict(response.headers))
            if status >= 300:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise HttpStatusError(f"{url}: HTTP {status}", status, retry_after)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise ResponseTooLargeError(f"{url}: body of {declared} bytes exceeds {self.policy.max_bytes}")
            body = bytearray()
            # aiter_bytes decompresses as it goes, so a gzip bomb is stopped at the cap too.
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.policy.max_bytes:
                    raise ResponseTooLargeError(f"{url}: body exceeds {self.policy.max_bytes} bytes")
            return FetchResponse(
                str(url),
                status,
                dict(response.headers),
                bytes(body),
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
            response = await self._fetcher.get(f"{origin}/robots.txt", allow_private=allow_private)
        except HttpStatusError as exc:
            # No robots.txt (4xx) allows everything; a server error or refusal means wait and see.
            return exc.status < 500 and exc.status not in (401, 403)
        except PipelineError:
            return False
        parser = RobotFileParser()
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return parser

    async def allowed(self, url: str, allow_private: bool = False) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._parsers:
            self._parsers[origin] = asyncio.create_task(self._load(origin, allow_private))
        rules = await self._parsers[origin]
        return rules.can_fetch(self._agent, url) if isinstance(rules, RobotFileParser) else rules
