"""A feed fixture served over real HTTP with its recorded headers, fetched, then parsed as the pipeline does:
the response's headers reach the parser (tests/unit/test_feed_fixtures.py parses every case offline)."""

from __future__ import annotations

import asyncio

from pipeline.fetch import Fetcher, FetchPolicy, FetchResponse
from pipeline.parse import parse_payload
from tests.support.feeds import FETCHED_AT, RAW_KEY, check, feed_case
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import FEEDS


def test_a_page_served_as_html_is_refused_by_its_content_type(feed_server: FeedServer) -> None:
    """Nothing in the bytes of html-page.xml says "HTML" to a feed parser: only the Content-Type does."""
    case = feed_case(FEEDS / "html-page.xml")
    feed_server.routes["/feed.xml"] = Route(body=case.path.read_bytes(), headers=case.headers)

    async def fetch() -> FetchResponse:
        async with Fetcher(FetchPolicy(per_host_delay=0)) as fetcher:
            return await fetcher.get(feed_server.url("/feed.xml"), allow_private=True)

    response = asyncio.run(fetch())
    assert response.headers["content-type"] == case.headers["content-type"]
    headers = {"content-type": response.headers["content-type"], "content-location": response.url}
    check(case, lambda: parse_payload(response.body, case.source, RAW_KEY, FETCHED_AT, headers))
