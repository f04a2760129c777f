"""Full text of article pages: the main text, canonical URL and date extracted with trafilatura. Pure."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura

__all__ = ["PageText", "extract_page"]


@dataclass(frozen=True)
class PageText:
    """What an article page adds: its main text as simple HTML, its canonical URL and publication date."""

    html: str | None
    canonical_url: str | None
    published: datetime | None


def extract_page(page: bytes, url: str) -> PageText:
    """Extract the main text (headings and paragraphs) and `<link rel=canonical>` of one page."""
    html = trafilatura.extract(
        page,
        url=url,
        output_format="html",
        include_comments=False,
        include_images=False,
        include_links=False,
        include_tables=True,
        favor_precision=True,
    )
    metadata = trafilatura.extract_metadata(page, default_url=url)
    canonical = metadata.url if metadata is not None and metadata.url else None
    if canonical and not canonical.startswith(("http://", "https://")):
        canonical = None
    published = None
    if metadata is not None and metadata.date:
        with contextlib.suppress(ValueError):
            published = datetime.fromisoformat(metadata.date).replace(tzinfo=UTC)  # htmldate gives a day
    return PageText(html or None, canonical, published)
