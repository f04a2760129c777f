"""OPML 2.0 subscription lists: read a feed reader's export into sources, write the registry as one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import listparser
from lxml import etree
from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.models import Source, SourceKind
from pipeline.normalise import canonical_url
from pipeline.sources.additions import slug_id, unique_id
from pipeline.sources.registry import Registry
from pipeline.text import http_url

__all__ = ["OpmlError", "OpmlFeed", "OpmlImport", "plan_import", "read_opml", "write_opml"]


class OpmlError(ConfigError):
    """The OPML file is malformed or lists feeds that cannot be sources."""


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription of an OPML file."""

    url: str
    title: str | None
    tags: tuple[str, ...]
    line: int
    canonical: str  # the URL in canonical form, by which duplicates are found


@dataclass
class OpmlImport:
    """What an import adds, and the feeds it leaves out because the registry has them already."""

    added: list[Source] = field(default_factory=list)
    present: list[tuple[OpmlFeed, str]] = field(default_factory=list)  # feed, id of the source that has it


def _attribute(element: etree._Element, name: str) -> str | None:
    """An attribute by name, in any case (readers write `xmlUrl`, `xmlurl`, `XMLURL`)."""
    for key, value in element.attrib.items():
        if str(key).lower() == name.lower():
            return str(value).strip() or None
    return None


def _lines(data: bytes, name: str) -> dict[str, list[int]]:
    """Each `xmlUrl` of the file -> the lines of the outlines naming it; refuse what is not well-formed OPML."""
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise OpmlError(f"{name}: DOCTYPE and ENTITY declarations are not read in OPML")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or "?"
        raise OpmlError(f"{name}:{line}: malformed OPML: {exc.msg}") from None
    if etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"{name}:{root.sourceline}: not OPML: the root element is <{etree.QName(root).localname}>")
    found: dict[str, list[int]] = {}
    for outline in root.iter("{*}outline"):
        url = _attribute(outline, "xmlUrl")
        if url is not None:
            number = outline.sourceline
            found.setdefault(url, []).append(number if isinstance(number, int) else 0)
    return found


def read_opml(data: bytes, name: str = "OPML") -> list[OpmlFeed]:
    """The subscriptions of an OPML file, folders as tags; errors name the file and line."""
    lines = _lines(data, name)
    parsed = listparser.parse(data)
    if parsed.bozo:
        raise OpmlError(f"{name}: malformed OPML: {parsed.bozo_exception}")
    feeds: list[OpmlFeed] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for entry in parsed.feeds:
        url = str(entry.get("url", "")).strip()
        line, *again = lines.get(url, [0])  # listparser merges outlines of one URL: the lines say there were more
        tags = dict.fromkeys(str(t) for path in entry.get("categories", []) for t in path if str(t).strip())
        canonical = canonical_url(url) if http_url(url) else None
        if canonical is None:
            problems.append(f"{name}:{line}: {url[:200]!r} is not an http(s) URL")
            continue
        first = seen.setdefault(canonical, line)
        for duplicate in [line] * (first != line) + again:
            problems.append(f"{name}:{duplicate}: duplicate feed URL {url[:200]!r} (first on line {first})")
        if first == line:
            title = " ".join(str(entry.get("title") or "").split()) or None
            feeds.append(OpmlFeed(url, title, tuple(tags), line, canonical))
    read = {str(entry.get("url", "")).strip() for entry in parsed.feeds}
    for url, found in lines.items():  # an outline listparser does not read as a feed is not dropped silently
        if url not in read:
            problems.append(f"{name}:{found[0]}: {url[:200]!r} is not read as a feed URL")
    if problems:
        raise OpmlError("invalid OPML, nothing imported:\n  " + "\n  ".join(sorted(problems, key=_line_of)))
    return feeds


def _line_of(problem: str) -> int:
    number = problem.split(":", 2)[1]
    return int(number) if number.isdigit() else 0


def plan_import(feeds: list[OpmlFeed], registry: Registry, allow_private_network: bool = False) -> OpmlImport:
    """Sources for the feeds the registry does not have yet (by canonical URL), with ids not yet taken."""
    known = {canonical_url(str(s.url)): s.id for s in registry.sources if s.url}
    taken = {s.id for s in registry.sources}
    plan = OpmlImport()
    problems: list[str] = []
    for feed in feeds:
        if feed.canonical in known:
            plan.present.append((feed, known[feed.canonical]))
            continue
        kind = SourceKind.JSONFEED if urlsplit(feed.url).path.lower().endswith(".json") else SourceKind.FEED
        try:
            source = Source(
                id=unique_id(slug_id(feed.title, feed.url), taken),
                kind=kind,
                name=feed.title,
                url=feed.url,  # validated as HttpUrl
                tags=list(feed.tags),
                allow_private_network=allow_private_network,
            )
        except ValidationError as exc:
            problems.append(f"line {feed.line}: {feed.url[:200]!r}: {exc.errors()[0]['msg']}")
            continue
        plan.added.append(source)
    if problems:
        raise OpmlError("invalid OPML, nothing imported:\n  " + "\n  ".join(problems))
    return plan


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def write_opml(registry: Registry, title: str = "news-pipeline sources") -> bytes:
    """The registry's feeds as OPML 2.0 (folders by first tag), the shape FreshRSS and miniflux import."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = etree.SubElement(opml, "body")
    folders: dict[str, etree._Element] = {}
    for source in registry.sources:
        if source.url is None or source.kind not in (SourceKind.FEED, SourceKind.JSONFEED):
            continue  # documents and sitemaps are no feed a reader could subscribe to
        parent = body
        if source.tags:
            folder = source.tags[0]
            if folder not in folders:
                folders[folder] = etree.SubElement(body, "outline", text=folder, title=folder)
            parent = folders[folder]
        url = str(source.url)
        etree.SubElement(
            parent,
            "outline",
            type="rss",
            text=source.display_name,
            title=source.display_name,
            xmlUrl=url,
            htmlUrl=_site(url),
        )
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))
