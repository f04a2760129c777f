"""A feed's history (RFC 5005): follow `prev-archive` links of an archived feed, or `next` links of a paged
one (JSON Feed's `next_url`), back to a date, within a page limit; each page fetched by the `Fetcher`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time

from lxml import etree

from pipeline.errors import PipelineError
from pipeline.fetch import Fetcher, FetchResponse
from pipeline.models import Source, SourceKind
from pipeline.parse import parse_payload
from pipeline.text import http_url

__all__ = ["MAX_HISTORY_PAGES", "older_page", "walk_history"]

MAX_HISTORY_PAGES = 50  # pages read back per source and run
ATOM = "http://www.w3.org/2005/Atom"
_OLDER = ("prev-archive", "next")  # an archive's older document first; a paged feed's next page (older entries)

log = logging.getLogger(__name__)


def _feed_links(data: bytes) -> dict[str, str]:
    """rel -> href of the `atom:link`s of an Atom feed or an RSS channel (not of its entries)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return {}
    if root is None:
        return {}
    channel = next((c for c in root if etree.QName(c).localname == "channel"), root)  # RSS 2.0: <channel>
    links: dict[str, str] = {}
    for link in channel.iterchildren(f"{{{ATOM}}}link"):
        rel, href = (link.get("rel") or "").strip().lower(), (link.get("href") or "").strip()
        if rel and href:
            links.setdefault(rel, href)
    return links


def older_page(data: bytes, kind: SourceKind) -> str | None:
    """The URL of the page with the feed's older entries, if the payload names one."""
    if kind is SourceKind.JSONFEED:
        try:
            feed = json.loads(data)
        except ValueError:
            return None
        value = feed.get("next_url") if isinstance(feed, dict) else None
        return http_url(value) if isinstance(value, str) else None
    links = _feed_links(data)
    return next((http_url(links[rel]) for rel in _OLDER if rel in links and http_url(links[rel])), None)


def _oldest(response: FetchResponse, source: Source) -> datetime | None:
    """The earliest published date on a page (None when it has no dated item or does not parse)."""
    headers = {"content-type": response.headers.get("content-type", ""), "content-location": response.url}
    try:
        payload = parse_payload(response.body, source, "history", datetime.now(UTC), headers)
    except PipelineError:
        return None
    dates = [i.published_at for i in payload.items if i.published_at is not None]
    return min(dates) if dates else None


async def walk_history(
    fetcher: Fetcher, source: Source, first: FetchResponse, since: date, max_pages: int = MAX_HISTORY_PAGES
) -> list[FetchResponse]:
    """The older pages of a feed, from the one after `first` back to the first page that reaches `since`, at
    most `max_pages`; a page that fails ends the walk (the pages before it are kept)."""
    limit = datetime.combine(since, time.min, tzinfo=UTC)
    pages: list[FetchResponse] = []
    seen = {first.url}
    current = first
    while len(pages) < max_pages:
        oldest = _oldest(current, source)
        if oldest is not None and oldest < limit:
            break  # this page already goes back past the date
        link = older_page(current.body, source.kind)
        if link is None or link in seen:
            break
        seen.add(link)
        try:
            current = await fetcher.get(link, allow_private=source.allow_private_network)
        except PipelineError as exc:
            log.warning("%s: history ends at %s: %s", source.id, link, exc)
            break
        pages.append(current)
    return pages
