"""Full text of article pages: the main text, canonical URL and date extracted with trafilatura, time-limited."""

from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

__all__ = ["PageExtractor", "PageText", "extract_page"]


@dataclass(frozen=True)
class PageText:
    """What an article page adds: its main text as simple HTML, its canonical URL and publication date."""

    html: str | None
    canonical_url: str | None
    published: datetime | None


def extract_page(page: bytes, url: str) -> PageText:
    """Extract the main text (headings and paragraphs) and `<link rel=canonical>` of one page."""
    import trafilatura  # seconds to import: only the extraction process needs it

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


def _serve(connection: Connection) -> None:
    """The extraction process: pages in, `PageText`s (or the error's text) out, until the pipe closes."""
    import trafilatura  # noqa: F401 - loaded before the first page, so its time limit is the extraction's own

    connection.send("ready")
    while True:
        try:
            page, url = connection.recv()
        except EOFError:
            return
        try:
            connection.send(extract_page(page, url))
        except Exception as exc:
            connection.send(f"{type(exc).__name__}: {exc}")


_START_TIMEOUT = 120.0  # seconds for the extraction process to import trafilatura, on a busy machine


class PageExtractor:
    """`extract_page` in a process of its own, so a pathological page is stopped after `time_limit` seconds.

    Use as a context manager; the process starts on the first page and is replaced after a timeout.
    """

    def __init__(self, time_limit: float) -> None:
        self.time_limit = time_limit
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> PageExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def extract(self, page: bytes, url: str) -> PageText | str:
        """The page's text, or why there is none (a timeout or the extractor's error)."""
        connection = self._start()
        connection.send((page, url))
        if not connection.poll(self.time_limit):
            self._stop()
            return f"extraction took longer than {self.time_limit:g}s"
        try:
            result: PageText | str = connection.recv()
        except EOFError:  # the process died (out of memory, say)
            self._stop()
            return "the extraction process died"
        return result

    def _start(self) -> Connection:
        if self._connection is None or self._process is None or not self._process.is_alive():
            self._stop()
            # spawn, not fork: the parent runs threads (boto3, read-ahead) that a forked child would inherit locked
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child,), daemon=True, name="news-page-extractor")
            self._process.start()
            child.close()
            if not parent.poll(_START_TIMEOUT) or parent.recv() != "ready":
                raise RuntimeError("the page extraction process did not start")
            self._connection = parent
        return self._connection

    def _stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5)
        self._process = self._connection = None
