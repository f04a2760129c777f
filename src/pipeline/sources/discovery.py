"""Find a site's feeds from its address: `<link rel="alternate">`, the HTTP `Link` header, then common paths;
every candidate is fetched (through the `Fetcher`, with its guard, caps and timeouts) and parsed before it is
offered."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from pipeline.errors import PipelineError
from pipeline.fetch import Fetcher, FetchResponse, RobotsRules
from pipeline.models import Source, SourceKind
from pipeline.normalise import canonical_url
from pipeline.parse import parse_payload
from pipeline.text import http_url

__all__ = ["FeedCandidate", "discover_feeds"]

FEED_TYPES = {
    "application/rss+xml": SourceKind.FEED,
    "application/atom+xml": SourceKind.FEED,
    "application/rdf+xml": SourceKind.FEED,
    "application/xml": SourceKind.FEED,
    "text/xml": SourceKind.FEED,
    "application/feed+json": SourceKind.JSONFEED,
    "application/json": SourceKind.JSONFEED,
}
# Tried only when the page and its headers name no feed at all.
COMMON_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json")
MAX_CANDIDATES = 12  # a page naming hundreds of alternates is not fetched hundreds of times
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_PARAM = re.compile(r"""\s*;\s*([a-zA-Z*-]+)\s*=\s*("[^"]*"|[^;,\s]*)""")


@dataclass(frozen=True)
class FeedCandidate:
    """A feed the site names (or a common path answers with), checked to parse as one."""

    url: str
    kind: SourceKind
    title: str | None
    items: int
    found_by: str  # "link", "header", "path" or "address" (the address itself is a feed)


def _link_header(value: str) -> list[tuple[str, str, str]]:
    """(url, rel, type) of each entry of an RFC 8288 `Link` header."""
    links = []
    for match in _LINK.finditer(value):
        params = {k.lower(): v.strip('"') for k, v in _PARAM.findall(match.group(2))}
        links.append((match.group(1).strip(), params.get("rel", "").lower(), params.get("type", "").lower()))
    return links


def _alternates(response: FetchResponse) -> list[tuple[str, SourceKind, str]]:
    """Feed links of a page, from its `Link` header then its `<link rel="alternate">` elements: url, kind, how."""
    found: list[tuple[str, SourceKind, str]] = []
    for url, rel, kind in _link_header(response.headers.get("link", "")):
        if "alternate" in rel.split() and kind.split(";")[0] in FEED_TYPES:
            found.append((urljoin(response.url, url), FEED_TYPES[kind.split(";")[0]], "header"))
    try:
        document = lxml.html.document_fromstring(response.body)
    except (etree.ParserError, ValueError):
        return found
    bases = [b.get("href", "").strip() for b in document.iter("base") if b.get("href")]
    base = urljoin(response.url, bases[0]) if bases else response.url
    for link in document.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href:
            found.append((urljoin(base, href), FEED_TYPES[kind], "link"))
    return found


def _checked(response: FetchResponse, kind: SourceKind, found_by: str) -> FeedCandidate | None:
    """The response as a candidate if it parses as a feed with a version (an HTML page never does)."""
    if kind is SourceKind.FEED and response.body.lstrip()[:1] in (b"{", b"["):
        kind = SourceKind.JSONFEED
    probe = Source(id="discovery", kind=kind, url=response.url)
    try:
        parsed = parse_payload(response.body, probe, "discovery", datetime.now(UTC), response.headers)
    except PipelineError:
        return None
    title = parsed.items[0].source_name if parsed.items else None
    return FeedCandidate(response.url, kind, None if title == probe.id else title, parsed.count, found_by)


async def _fetch(fetcher: Fetcher, robots: RobotsRules, url: str, allow_private: bool) -> FetchResponse | None:
    try:
        if not await robots.allowed(url, allow_private):
            return None
        return await fetcher.get(url, allow_private=allow_private)
    except PipelineError:
        return None


async def discover_feeds(fetcher: Fetcher, address: str, allow_private: bool = False) -> list[FeedCandidate]:
    """The feeds `address` leads to, each fetched and parsed; the page's own order, without duplicates.

    Raises `PipelineError` when the address itself cannot be fetched.
    """
    robots = RobotsRules(fetcher, fetcher.policy.user_agent)
    page = await fetcher.get(address, allow_private=allow_private)
    itself = _checked(page, SourceKind.FEED, "address")
    if itself is not None:
        return [itself]
    named = _alternates(page)
    tried = named or [(page.url.rstrip("/") + p, SourceKind.FEED, "path") for p in COMMON_PATHS]
    unique: dict[str, tuple[str, SourceKind, str]] = {}
    for url, kind, how in tried:
        checked_url = http_url(url)
        key = canonical_url(checked_url) if checked_url else None
        if checked_url and key and key not in unique:
            unique[key] = (checked_url, kind, how)
    wanted = list(unique.values())[:MAX_CANDIDATES]
    responses = await asyncio.gather(*(_fetch(fetcher, robots, url, allow_private) for url, _, _ in wanted))
    candidates: dict[str, FeedCandidate] = {}
    for (_, kind, how), response in zip(wanted, responses, strict=True):
        candidate = _checked(response, kind, how) if response is not None else None
        if candidate is not None:  # redirects may lead two names to one feed
            candidates.setdefault(canonical_url(candidate.url) or candidate.url, candidate)
    return list(candidates.values())
