"""Full text of article pages: robots.txt rules per host, and the main text extracted with trafilatura."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import trafilatura

from pipeline.errors import PipelineError
from pipeline.fetch import Fetcher, HttpStatusError

__all__ = ["PageText", "RobotsRules", "extract_page"]


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
