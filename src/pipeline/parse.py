"""Payload bytes -> `RawItem`s. Pure: never touches the network or the store."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from lxml import etree
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import PermanentError, describe
from pipeline.feed_text import neutralise_declarations, utf8_headers
from pipeline.html_text import absolute_links
from pipeline.models import DatePrecision, DateSource, Enclosure, RawItem, Section, Source, SourceKind, TextSource
from pipeline.text import http_url

__all__ = [
    "ParsedPayload",
    "parse_document",
    "parse_feed",
    "parse_json_feed",
    "parse_payload",
]

_DATE_HEADER = re.compile(r"^date[ \t]+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
# Section headings in seed documents are short label lines: "Details", "Optional", "Recall".
_MAX_HEADING_WORDS = 5
_MAX_HEADING_CHARS = 48


def _is_heading(paragraph: str) -> bool:
    return (
        "\n" not in paragraph
        and len(paragraph) <= _MAX_HEADING_CHARS
        and len(paragraph.split()) <= _MAX_HEADING_WORDS
        and paragraph[-1] not in ".!?:;,…\"'”»)"
    )


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PermanentError(f"document is not valid UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise PermanentError("document contains NUL bytes")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(data: bytes, source: Source, raw_key: str, fetched_at: datetime) -> RawItem:
    """Parse one seed-format document: `date YYYY-MM-DD` + lead on the first line, then paragraphs."""
    text = _decode(data).strip()
    first_line, _, rest = text.partition("\n")
    header = _DATE_HEADER.match(first_line.strip())
    if header is None:
        raise PermanentError("no `date YYYY-MM-DD` header on the first line")
    try:
        published = datetime.strptime(header.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise PermanentError(f"invalid date in header: {header.group(1)!r}") from None

    paragraphs = [header.group(2).strip()] if header.group(2).strip() else []
    paragraphs += [p.strip() for p in _PARAGRAPH_BREAK.split(rest) if p.strip()]
    if not paragraphs:
        raise PermanentError("document has a date header but no text")

    sections: list[Section] = []
    heading: str | None = None
    body: list[str] = []
    for paragraph in paragraphs:
        if body and _is_heading(paragraph):
            sections.append(Section(heading=heading, paragraphs=body))
            heading, body = paragraph, []
        else:
            body.append(" ".join(paragraph.split()))
    if body:
        sections.append(Section(heading=heading, paragraphs=body))
    elif heading:  # a trailing label with nothing under it is text, not a heading
        sections.append(Section(heading=None, paragraphs=[heading]))

    return RawItem(
        source_id=source.id,
        raw_key=raw_key,
        index=0,
        fetched_at=fetched_at,
        sections=sections,
        published_at=published,
        date_source=DateSource.HEADER,
        published_precision=DatePrecision.DAY,
        text_source=TextSource.DOCUMENT,
        language_hint=source.language,
        source_name=source.display_name,
    )


@dataclass
class ParsedPayload:
    """Items read from one payload, and the items that could not be read, by position and reason."""

    items: list[RawItem] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    beyond_cap: int = 0  # items after the source's `max_items`, left unread in the archived payload
    poll_hint: float | None = None  # seconds between updates, as the feed says (RSS ttl, sy:updatePeriod)

    @property
    def count(self) -> int:
        return len(self.items) + len(self.rejected)


# Zone abbreviations news feeds use that feedparser does not know (it reads them as UTC): minutes east of UTC.
# Ambiguous ones (IST, AST, CST as China time) are left to feedparser.
_ZONES = {
    "MSK": 180, "MSD": 240, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180, "WET": 0, "WEST": 60,
    "BST": 60, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "AWST": 480, "ACST": 570, "ACDT": 630,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780, "SAST": 120, "EAT": 180, "WAT": 60, "CAT": 120,
    "PKT": 300, "ICT": 420, "WIB": 420, "PHT": 480, "BRT": -180, "ART": -180, "AKST": -540, "AKDT": -480,
    "HST": -600, "NST": -210, "NDT": -150, "TRT": 180, "GST": 240,
}  # fmt: skip
_TRAILING_ZONE = re.compile(r"\s([A-Z]{2,5})\s*$")


def _feed_date(raw: str | None, parsed: time.struct_time | None) -> datetime | None:
    """The entry's date in the zone it gives, reading zone abbreviations such as MSK right where feedparser
    does not."""
    match = _TRAILING_ZONE.search(raw or "")
    if raw and match and match.group(1) in _ZONES:
        try:
            local = parsedate_to_datetime(raw[: match.start()].strip() + " +0000")
            zone = timezone(timedelta(minutes=_ZONES[match.group(1)]))
            return local.replace(tzinfo=zone)
        except (TypeError, ValueError, OverflowError):  # unreadable, or beyond the year 9999 once in UTC
            pass
    instant = _struct_to_datetime(parsed)
    return _in_given_zone(raw, instant) if instant is not None else None


def _in_given_zone(raw: str | None, instant: datetime) -> datetime:
    """`instant` in the offset `raw` states ("+0200", "-05:00"), when `raw` reads as that same instant."""
    for read in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            given = read((raw or "").strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if given.tzinfo is not None and given == instant:
            return given
    return instant


_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")


def _precision(raw: str | None) -> DatePrecision:
    """`day` for a date given without a time of day ("2024-01-07", "Sun, 07 Jan 2024")."""
    return DatePrecision.TIME if raw is None or _HAS_TIME.search(raw) else DatePrecision.DAY


def _struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _language(code: str | None) -> str | None:
    code = (code or "").strip().lower()[:2]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


_MIME_TYPE = re.compile(r"^[a-z0-9][\w.+-]*/[\w.+-]+$")
MAX_ENCLOSURES = 20  # per item: more is a feed listing its whole archive on every item


def _is_image(media: Any) -> bool:
    """Said to be a picture (the item's image), as opposed to a file to listen to, watch or read."""
    return media.get("medium") == "image" or str(media.get("type") or "").strip().lower().startswith("image/")


def _enclosures(found: list[tuple[object, object, object]]) -> list[Enclosure]:
    """Enclosures from (url, type, length) as feeds give them: http(s) URLs only, each once; an odd type or
    length is left out, not the enclosure; pictures are the item's image, not enclosures."""
    kept: dict[str, Enclosure] = {}
    for raw_url, raw_type, raw_length in found:
        url = http_url(str(raw_url or ""))
        kind = str(raw_type or "").strip().lower()
        if url is None or kind.startswith("image/"):
            continue
        size = str(raw_length or "").strip()
        length = int(size) if size.isascii() and size.isdigit() and 0 < int(size) < 2**63 else None
        mime = kind if _MIME_TYPE.match(kind) else None
        known = kept.get(url)  # a URL given twice keeps what either gives
        kept[url] = Enclosure(url=url, type=(known and known.type) or mime, length=(known and known.length) or length)
    return list(kept.values())[:MAX_ENCLOSURES]


def _group_alternatives(data: bytes) -> frozenset[str]:
    """URLs of the Media RSS `media:content` that a `media:group` offers as alternatives to its default
    (`isDefault`, else its first): feedparser flattens groups, so they are read here."""
    if b"search.yahoo.com/mrss" not in data or b"group" not in data:
        return frozenset()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return frozenset()
    alternatives: set[str] = set()
    for group in root.iter("{http://search.yahoo.com/mrss/}group", "{http://search.yahoo.com/mrss}group"):
        contents = [c for c in group if etree.QName(c).localname == "content" and (c.get("url") or "").strip()]
        default = next((c for c in contents if (c.get("isDefault") or "").strip().lower() == "true"), None)
        chosen = default if default is not None else (contents[0] if contents else None)
        alternatives.update((c.get("url") or "").strip() for c in contents if c is not chosen)
    return frozenset(alternatives)


def _feed_entry(
    entry: Any,
    index: int,
    source: Source,
    raw_key: str,
    fetched_at: datetime,
    feed: Any,
    alternatives: frozenset[str] = frozenset(),
) -> RawItem:
    content = entry.get("content") or []
    detail = content[0] if content else entry.get("summary_detail") or {}
    html = detail.get("value")
    if html and detail.get("base"):
        html = absolute_links(html, detail["base"])
    # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed, with a warning.
    dated = "published" if dict.get(entry, "published_parsed") else "updated"
    published = _feed_date(dict.get(entry, dated), dict.get(entry, f"{dated}_parsed"))
    authors = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    images = [
        m.get("url")
        for m in [*entry.get("media_content", []), *entry.get("media_thumbnail", []), *entry.get("enclosures", [])]
        if m.get("url") and (m.get("medium") == "image" or str(m.get("type", "image/")).startswith("image/"))
    ]
    return RawItem(
        source_id=source.id,
        raw_key=raw_key,
        index=index,
        fetched_at=fetched_at,
        url=entry.get("link") or None,
        guid=str(entry.get("id") or "") or None,
        title=entry.get("title") or None,
        html=html or None,
        sections=[],
        published_at=published,
        date_source=DateSource.FEED if published else None,
        published_precision=_precision(dict.get(entry, dated)) if published else DatePrecision.TIME,
        authors=authors or ([entry["author"]] if entry.get("author") else []),
        categories=[t.get("term", "") for t in entry.get("tags", []) if t.get("term")],
        image_url=images[0] if images else None,
        enclosures=_enclosures(
            [(e.get("href"), e.get("type"), e.get("length")) for e in entry.get("enclosures", []) if not _is_image(e)]
            + [
                (m.get("url"), m.get("type"), m.get("filesize"))
                for m in entry.get("media_content", [])
                if not _is_image(m) and str(m.get("url", "")).strip() not in alternatives
            ]
        ),
        language_hint=source.language or _language(entry.get("language") or feed.get("language")),
        source_name=source.name or feed.get("title") or source.id,
    )


def parse_feed(
    data: bytes, source: Source, raw_key: str, fetched_at: datetime, headers: dict[str, str] | None = None
) -> ParsedPayload:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes with feedparser, never letting it fetch anything itself."""
    # Neither of feedparser's pure-Python HTML passes (a third of its parse time): the pipeline extracts text
    # with lxml, sanitises kept markup with nh3 and resolves relative links itself, only where there are any.
    headers = headers or {}
    data = neutralise_declarations(data, headers)
    parsed = feedparser.parse(
        data,
        response_headers=utf8_headers(headers),
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise PermanentError(f"not a feed: {reason}")
    result = ParsedPayload()
    entries = parsed.entries[: source.max_items] if source.max_items else parsed.entries
    result.beyond_cap = len(parsed.entries) - len(entries)
    result.poll_hint = _poll_hint(parsed.feed)
    alternatives = _group_alternatives(data)
    for index, entry in enumerate(entries):
        try:
            result.items.append(_feed_entry(entry, index, source, raw_key, fetched_at, parsed.feed, alternatives))
        except Exception as exc:  # whatever one entry holds, it fails alone
            result.rejected.append((index, f"unreadable feed entry: {describe(exc, 500)}"))
    return result


class _JsonFeedAuthor(BaseModel):
    name: str | None = None


class _JsonFeedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    image: str | None = None
    date_published: AwareDatetime | None = None
    date_modified: AwareDatetime | None = None
    author: _JsonFeedAuthor | None = None  # JSON Feed 1.0
    authors: list[_JsonFeedAuthor] = Field(default_factory=list)  # 1.1
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    attachments: Any = None  # read leniently: an odd attachment must not cost the item

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # The spec says string, and says to coerce numbers.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class _JsonFeed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = Field(pattern=r"^https?://jsonfeed\.org/version/1(\.1)?/?$")
    title: str
    home_page_url: str | None = None
    language: str | None = None
    items: list[Any]


_UPDATE_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def _poll_hint(feed: Any) -> float | None:
    """Seconds between updates the feed itself announces: RSS `ttl` (minutes), or Syndication's
    `sy:updatePeriod` divided by `sy:updateFrequency`."""
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        return min(int(ttl), 525_600) * 60.0
    period = _UPDATE_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    return period / max(1, min(int(frequency), 10_000)) if frequency.isdigit() else float(period)


def parse_json_feed(data: bytes, source: Source, raw_key: str, fetched_at: datetime) -> ParsedPayload:
    """Parse JSON Feed 1.0/1.1; a malformed item is rejected alone, a malformed feed as a whole."""
    try:
        feed = _JsonFeed.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise PermanentError(f"not a JSON Feed: {where}: {first['msg']}") from None
    result = ParsedPayload()
    items = feed.items[: source.max_items] if source.max_items else feed.items
    result.beyond_cap = len(feed.items) - len(items)
    for index, raw in enumerate(items):
        try:
            result.items.append(
                _json_feed_item(_JsonFeedItem.model_validate(raw), index, source, raw_key, fetched_at, feed)
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(item)"
            result.rejected.append((index, f"invalid JSON Feed item: {where}: {first['msg']}"))
        except Exception as exc:  # whatever one item holds, it fails alone
            result.rejected.append((index, f"unreadable JSON Feed item: {describe(exc, 500)}"))
    return result


def _json_feed_item(
    item: _JsonFeedItem, index: int, source: Source, raw_key: str, fetched_at: datetime, feed: _JsonFeed
) -> RawItem:
    published = item.date_published or item.date_modified
    if published is not None:
        published.astimezone(UTC)  # beyond the year 9999 once in UTC: OverflowError, this item's rejection
    authors = [a.name for a in (item.authors or ([item.author] if item.author else [])) if a.name]
    text = item.content_text if not item.content_html else None
    return RawItem(
        source_id=source.id,
        raw_key=raw_key,
        index=index,
        fetched_at=fetched_at,
        url=item.url or item.external_url,
        guid=item.id,
        title=item.title,
        html=item.content_html or (None if text else item.summary),
        sections=[Section(paragraphs=[p for p in re.split(r"\n\s*\n", text) if p.strip()])] if text else [],
        published_at=published,
        date_source=DateSource.FEED if published else None,
        authors=authors,
        categories=item.tags,
        image_url=item.image,
        enclosures=_enclosures(
            [
                (a.get("url"), a.get("mime_type"), a.get("size_in_bytes"))
                for a in (item.attachments if isinstance(item.attachments, list) else [])
                if isinstance(a, dict)
            ]
        ),
        language_hint=source.language or _language(item.language or feed.language),
        source_name=source.name or feed.title or source.id,
    )


def parse_payload(
    data: bytes, source: Source, raw_key: str, fetched_at: datetime, headers: Mapping[str, str] | None = None
) -> ParsedPayload:
    """Parse one payload the way its source's kind says; the one place that decides how.

    `headers` are the response's (lower-case names): `content-type` and `content-location` help feedparser
    with the encoding and relative links.
    """
    if source.kind is SourceKind.DOCUMENTS:
        return ParsedPayload(items=[parse_document(data, source, raw_key, fetched_at)])
    if source.kind is SourceKind.JSONFEED:
        return parse_json_feed(data, source, raw_key, fetched_at)
    if source.kind is SourceKind.SITEMAP:
        from pipeline.sitemaps import parse_news_sitemap  # usp and httpx: only for sitemap sources

        items, beyond_cap = parse_news_sitemap(
            data, source, raw_key, fetched_at, (headers or {}).get("content-location")
        )
        return ParsedPayload(items=items, beyond_cap=beyond_cap)
    return parse_feed(data, source, raw_key, fetched_at, dict(headers or {}))
