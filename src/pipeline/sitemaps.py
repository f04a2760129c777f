"""News sitemaps (sitemaps.org with Google's `news:` extension): the documents are fetched by the pipeline's
own `Fetcher` and read from bytes with ultimate-sitemap-parser, which never makes a request itself."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from usp.fetch_parse import IndexRobotsTxtSitemapParser, XMLSitemapParser
from usp.objects.sitemap import AbstractPagesSitemap, AbstractSitemap, InvalidSitemap
from usp.web_client.abstract_client import LocalWebClient

from pipeline.decoding import DecodedTooLargeError, decode_body
from pipeline.errors import PermanentError, PipelineError
from pipeline.fetch import Fetcher, RobotsRules
from pipeline.models import DatePrecision, DateSource, RawItem, Source
from pipeline.text import http_url

__all__ = ["MAX_SITEMAPS", "NEWS_WINDOW", "fetch_news_sitemaps", "parse_news_sitemap"]

NEWS_WINDOW = timedelta(days=2)  # Google News sitemaps list the articles of the last two days
MAX_SITEMAPS = 20  # documents read per run from one source: robots.txt, indexes and sitemaps
_GZIP = b"\x1f\x8b"

logging.getLogger("usp").setLevel(logging.CRITICAL)  # it logs every malformed document it meets as an error


def _unzipped(url: str, data: bytes, max_bytes: int) -> bytes:
    """`data`, gunzipped when it is a `.xml.gz` file (gzip as the file's format, not a Content-Encoding)."""
    if not data.startswith(_GZIP):
        return data
    try:
        return decode_body(data, "gzip", max_bytes)
    except DecodedTooLargeError as exc:
        raise PermanentError(f"{url}: {exc}") from None


def _read(url: str, data: bytes) -> tuple[AbstractSitemap, list[str]]:
    """The sitemap in `data`, and the URLs of the sitemaps it points to (robots.txt, an index): never fetched."""
    children: list[str] = []

    def keep(urls: list[str], level: int, parents: set[str]) -> list[str]:
        children.extend(u for u in urls if http_url(u))
        return []  # usp fetches nothing: the caller fetches the children itself

    parser = IndexRobotsTxtSitemapParser if url.split("?", 1)[0].endswith("/robots.txt") else XMLSitemapParser
    text = data.decode("utf-8", errors="replace")
    sitemap = parser(
        url=url, content=text, recursion_level=0, web_client=LocalWebClient(), parent_urls=set(),
        recurse_list_callback=keep,
    ).sitemap()  # fmt: skip
    return sitemap, children


async def fetch_news_sitemaps(fetcher: Fetcher, robots: RobotsRules, source: Source) -> list[tuple[str, bytes]]:
    """(url, XML) of each sitemap the source's URL leads to (itself, through robots.txt or an index) that lists
    pages; at most `MAX_SITEMAPS` documents, each allowed by robots.txt. Raise when the source's URL fails or
    leads to no sitemap at all."""
    queue, seen = [str(source.url)], set[str]()
    found: list[tuple[str, bytes]] = []
    problems: list[str] = []
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        first = len(seen) == 1
        try:
            if not first and not await robots.allowed(url, source.allow_private_network):
                problems.append(f"{url}: disallowed by robots.txt")
                continue
            response = await fetcher.get(url, allow_private=source.allow_private_network)
            body = _unzipped(response.url, response.body, fetcher.policy.max_bytes)
            sitemap, children = _read(response.url, body)
        except PipelineError as exc:
            if first:
                raise
            problems.append(str(exc))
            continue
        if isinstance(sitemap, InvalidSitemap):
            problems.append(f"{url}: not a sitemap ({sitemap.reason})")
        elif isinstance(sitemap, AbstractPagesSitemap):
            found.append((response.url, body))
        queue.extend(children)
    if not found and problems:
        raise PermanentError("no sitemap found: " + "; ".join(problems[:3]))
    return found


def _published(value: datetime) -> tuple[datetime, DatePrecision]:
    if value.tzinfo is None:  # a date alone (W3C datetime allows it): the day, kept as 00:00 UTC
        return value.replace(tzinfo=UTC), DatePrecision.DAY
    return value, DatePrecision.TIME


def parse_news_sitemap(
    data: bytes, source: Source, raw_key: str, fetched_at: datetime, url: str | None = None
) -> tuple[list[RawItem], int]:
    """The news articles of a sitemap published within `NEWS_WINDOW` of `fetched_at`, newest first, with their
    `news:title` and `news:publication_date` (pages without a news entry are not articles); and how many more
    there were beyond the source's `max_items`."""
    sitemap, _ = _read(url or str(source.url), data)
    if not isinstance(sitemap, AbstractPagesSitemap):
        reason = sitemap.reason if isinstance(sitemap, InvalidSitemap) else "an index, not a list of pages"
        raise PermanentError(f"not a news sitemap: {reason}")
    since = fetched_at - NEWS_WINDOW
    stories = []
    for page in sitemap.pages:
        story = page.news_story
        link = http_url(page.url)
        if story is None or link is None or not story.title.strip():
            continue
        published, precision = _published(story.publish_date)
        if since <= published <= fetched_at + timedelta(days=1):
            stories.append((published, link, story, precision))
    stories.sort(key=lambda s: s[0], reverse=True)
    kept = stories[: source.max_items] if source.max_items else stories
    items = []
    for index, (published, link, story, precision) in enumerate(kept):
        language = (story.publication_language or "").strip().lower()[:2]
        items.append(
            RawItem(
                source_id=source.id,
                raw_key=raw_key,
                index=index,
                fetched_at=fetched_at,
                url=link,
                title=story.title.strip(),
                sections=[],
                published_at=published,
                date_source=DateSource.FEED,
                published_precision=precision,
                categories=list(story.keywords or []),
                language_hint=source.language or (language if language.isalpha() and len(language) == 2 else None),
                source_name=source.name or story.publication_name or source.id,
            )
        )
    return items, len(stories) - len(kept)
