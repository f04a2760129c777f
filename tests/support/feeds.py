"""The recorded feed cases of tests/fixtures/feeds: a payload, its response headers, what parsing it gives.

`case.xml` (or `case.json`) holds the payload's bytes; `case.expected.json` beside it holds the response
headers it was served with, when they are not the default for its extension (`"headers"`, lower-case
names), and either the items and rejections it normalises to or the error it is refused with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import PermanentError
from pipeline.models import Source
from pipeline.normalise import normalise_item
from pipeline.parse import ParsedPayload
from tests.support.paths import FEEDS

CASES = sorted(p for p in FEEDS.iterdir() if not p.name.endswith(".expected.json"))
FETCHED_AT = datetime(2024, 1, 8, tzinfo=UTC)
RAW_KEY = "raw/case"
DEFAULT_TYPES = {".xml": "application/rss+xml", ".json": "application/feed+json"}


@dataclass(frozen=True)
class FeedCase:
    path: Path
    headers: dict[str, str]  # the response's, with lower-case names
    expected: dict[str, Any]  # {"items": [...], "rejected": [...]}, or {"error": a pattern}

    @property
    def source(self) -> Source:
        kind = "jsonfeed" if self.path.suffix == ".json" else "feed"
        return Source.model_validate({"id": "case", "kind": kind, "url": "https://example.org/feed"})


def feed_case(path: Path) -> FeedCase:
    """The case whose payload is `path`, with its recorded headers and expectation."""
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    headers = {"content-type": DEFAULT_TYPES[path.suffix]} | expected.pop("headers", {})
    return FeedCase(path, headers, expected)


def observe(payload: ParsedPayload) -> dict[str, Any]:
    """What an expectation speaks about: each item once normalised, and the rejected entries."""
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
            | ({"enclosures": [e.model_dump() for e in article.enclosures]} if article.enclosures else {})
        )
    return {"items": items, "rejected": [[index, reason] for index, reason in payload.rejected]}


def check(case: FeedCase, parse: Callable[[], ParsedPayload]) -> None:
    """`parse()` gives what `case` expects: its items and rejections, or its error."""
    if "error" in case.expected:
        with pytest.raises(PermanentError, match=case.expected["error"]):
            parse()
        return
    assert observe(parse()) == case.expected
