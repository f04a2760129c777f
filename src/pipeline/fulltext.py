"""Full text of article pages: the main text (trafilatura) and what the page says about itself, time-limited."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from pipeline.page_meta import PageDate, PageMeta, parse_page_date, read_page_meta

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["PageExtractor", "PageText", "extract_page"]

# Below this many words the precise extraction has missed the article (a notice, a teaser): the fuller one is
# kept instead when it finds more. Measured on the article-extraction benchmark (tests/eval/extraction.py).
MIN_PRECISE_WORDS = 40


@dataclass(frozen=True)
class PageText:
    """What an article page adds: its main text as simple HTML, and its metadata with their origins."""

    html: str | None
    meta: PageMeta

    @property
    def canonical_url(self) -> str | None:
        url = self.meta.canonical_url
        return url if url and url.startswith(("http://", "https://")) else None

    @property
    def published(self) -> PageDate | None:
        return self.meta.published


def extract_page(page: bytes, url: str) -> PageText:
    """Extract the main text (headings and paragraphs) and the metadata of one page."""
    from trafilatura.htmlprocessing import build_html_output  # seconds to import: only the extraction process
    from trafilatura.utils import load_html

    tree = load_html(page)
    if tree is None:
        return PageText(None, PageMeta())
    meta = read_page_meta(tree, url)  # before trafilatura, which works on copies of the tree
    # Precision drops menus, related links and notices; on a few pages it drops the article itself.
    document = _extract(tree, url, favor_precision=True)
    if _words(document) < MIN_PRECISE_WORDS:
        fuller = _extract(tree, url, favor_precision=False)
        if _words(fuller) > _words(document):
            document = fuller
    if {"title", "authors", "published"} & set(meta.missing):  # its date search is costly: only when needed
        _fill_from_trafilatura(tree, url, meta)
    html = build_html_output(document) if document is not None and document.body is not None else None
    return PageText(html or None, meta)


def _extract(tree: HtmlElement, url: str, *, favor_precision: bool) -> Any:
    from trafilatura import bare_extraction

    return bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_images=False,
        include_links=False,
        include_tables=True,
        favor_precision=favor_precision,
    )


def _words(document: Any) -> int:
    return len((document.text or "").split()) if document is not None else 0


def _fill_from_trafilatura(tree: HtmlElement, url: str, meta: PageMeta) -> None:
    """Fill what the structured data left empty from trafilatura's reading of the page (title, byline, date,
    and the rest while at it)."""
    from trafilatura.metadata import extract_metadata

    # No extensive search: it takes dates from links, and those are other articles' dates.
    found = extract_metadata(tree, default_url=url, date_config={"original_date": True, "extensive_search": False})
    meta.offer("title", found.title, "trafilatura")
    meta.offer("authors", [a.strip() for a in (found.author or "").split(";") if a.strip()], "trafilatura")
    meta.offer("published", parse_page_date(found.date), "trafilatura")
    meta.offer("section", found.categories[0] if found.categories else None, "trafilatura")
    meta.offer("image_url", found.image, "trafilatura")
    meta.offer("description", found.description, "trafilatura")
    if found.sitename and found.sitename != found.hostname:  # a host name is no publication's name
        meta.offer("site_name", found.sitename, "trafilatura")
    meta.offer("canonical_url", found.url if found.url != url else None, "trafilatura")


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
