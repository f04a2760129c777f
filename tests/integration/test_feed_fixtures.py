"""Feed fixtures served over real HTTP, fetched, parsed and normalised: `case.xml` beside `case.expected.json`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import PermanentError
from pipeline.fetch import Fetcher, FetchPolicy
from pipeline.models import Source
from pipeline.normalise import normalise_item
from pipeline.parse import ParsedPayload, parse_feed, parse_json_feed
from tests.support.feedserver import FeedServer, Route

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
CASES = sorted(p for p in FEEDS.iterdir() if not p.name.endswith(".expected.json"))
FETCHED_AT = datetime(2024, 1, 8, tzinfo=UTC)
DEFAULT_TYPES = {".xml": "application/rss+xml", ".json": "application/feed+json"}


def expected_path(case: Path) -> Path:
    return case.with_name(case.stem + ".expected.json")


def fetch_and_parse(server: FeedServer, case: Path, content_type: str) -> ParsedPayload:
    server.routes["/" + case.name] = Route(body=case.read_bytes(), headers={"Content-Type": content_type})

    async def fetch() -> tuple[bytes, dict[str, str], str]:
        async with Fetcher(FetchPolicy(per_host_delay=0)) as fetcher:
            response = await fetcher.get(server.url("/" + case.name), allow_private=True)
            return response.body, response.headers, response.url

    body, headers, url = asyncio.run(fetch())
    kind = "jsonfeed" if case.suffix == ".json" else "feed"
    source = Source.model_validate({"id": "case", "kind": kind, "url": "https://example.org/feed"})
    if kind == "jsonfeed":
        return parse_json_feed(body, source, "raw/case", FETCHED_AT)
    return parse_feed(
        body, source, "raw/case", FETCHED_AT, {"content-type": headers["content-type"], "content-location": url}
    )


def observe(payload: ParsedPayload) -> dict[str, Any]:
    items = []
    for item in payload.items:
        article = normalise_item(item)
        items.append(
            {
                "title": article.title,
                "url": article.url,
                "published_at": article.published_at.isoformat(),
                "date_source": article.date_source.value,
                "date_flagged": article.date_flagged,
                "authors": article.authors,
                "categories": article.categories,
                "image_url": article.image_url,
                "language": article.language,
                "sections": [s.model_dump() for s in article.sections],
                "html": article.html,
            }
        )
    return {"items": items, "rejected": [[index, reason] for index, reason in payload.rejected]}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_feed_case(case: Path, feed_server: FeedServer) -> None:
    expected = json.loads(expected_path(case).read_text())
    content_type = expected.pop("content_type", DEFAULT_TYPES[case.suffix])
    if "error" in expected:
        with pytest.raises(PermanentError, match=expected["error"]):
            fetch_and_parse(feed_server, case, content_type)
        return
    assert observe(fetch_and_parse(feed_server, case, content_type)) == expected
