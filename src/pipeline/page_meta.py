"""What an article page says about itself: headline, authors, dates, section, image, description, site name and
canonical URL, from its structured data (JSON-LD, Open Graph and `article:*` meta, microdata, `<time>`), each
value with where it came from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

__all__ = ["PageDate", "PageMeta", "parse_page_date", "read_page_meta"]

# JSON-LD and microdata types whose object is the article itself.
_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "socialmediaposting",
    "scholarlyarticle", "techarticle", "report",
}  # fmt: skip
_SITE_TYPES = {"website", "newsmediaorganization", "organization"}
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_SPACE_BEFORE_ZONE = re.compile(r"\s+(?=(?:[+-]\d{2}:?\d{2}|Z)$)")  # "2025-03-14 09:30:00 +0100"
_EARLIEST_YEAR, _LATEST_YEAR = 1900, 2200
_BY = re.compile(r"^(?:by|von|par|por|door)\s+", re.I)  # "By Jane Doe" in an author field
# Boxes of other articles: dates and links found there are theirs, not the page's.
_ELSEWHERE = {"aside", "nav", "footer"}
_ELSEWHERE_CLASS = re.compile(r"related|recommend|more-stories|popular|trending|sidebar|teaser|promo", re.I)


@dataclass(frozen=True)
class PageDate:
    """A date as the page gives it: the instant (in its own offset) and whether a time of day was given."""

    value: datetime
    has_time: bool


@dataclass
class PageMeta:
    """Values a page states about itself; `origins` names where each came from (`json-ld`, `meta`, ...)."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: PageDate | None = None
    modified: PageDate | None = None
    section: str | None = None
    image_url: str | None = None
    description: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    origins: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: Any, origin: str) -> None:
        """Set field `name` to `value` unless it already has one (earlier origins are more trusted)."""
        if value in (None, "", []) or getattr(self, name) not in (None, []):
            return
        setattr(self, name, value)
        self.origins[name] = origin

    @property
    def missing(self) -> list[str]:
        """Fields with no value yet."""
        return [name for name in _FIELDS if getattr(self, name) in (None, [])]


_FIELDS = ("title", "authors", "published", "modified", "section", "image_url", "description", "site_name")


def parse_page_date(value: Any) -> PageDate | None:
    """An ISO 8601 or RFC 2822 date; without a zone it is taken as UTC, without a time as that day's start."""
    if not isinstance(value, str) or not (text := value.strip()):
        return None
    timed = bool(_HAS_TIME.search(text))
    try:
        parsed = datetime.fromisoformat(_SPACE_BEFORE_ZONE.sub("", text.replace(" ", "T", 1)) if timed else text[:10])
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if not _EARLIEST_YEAR <= parsed.year <= _LATEST_YEAR:  # 0001 or 9999 placeholders, and no overflow in UTC
        return None
    return PageDate(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), timed)


def read_page_meta(tree: HtmlElement, url: str) -> PageMeta:
    """Read the page's structured data, most trusted first: JSON-LD, then meta tags, microdata, `<time>`."""
    meta = PageMeta()
    _read_json_ld(tree, url, meta)
    _read_meta_tags(tree, meta)
    _read_microdata(tree, meta)
    if meta.published is None:
        meta.offer("published", _first_time(tree), "time")
    if meta.title and meta.site_name:
        meta.title = _without_site(meta.title, meta.site_name)
    # Addresses may be relative to the page ("/img/a.jpg"): absolute ones are what an article keeps.
    for name in ("image_url", "canonical_url"):
        if (value := getattr(meta, name)) is not None:
            setattr(meta, name, _absolute(url, value))
    return meta


def _absolute(base: str, address: str) -> str | None:
    try:
        return urljoin(base, address.strip())
    except ValueError:  # an unreadable IPv6 literal, say
        return None


def _without_site(title: str, site: str) -> str:
    """The headline without the site's name after a separator ("Bridge reopens | The Courier")."""
    for separator in (" | ", " - ", " \u2013 ", " \u2014 ", " :: ", " · "):
        head, _, tail = title.rpartition(separator)
        if head and tail.strip().casefold() == site.strip().casefold():
            return head.strip()
    return title


def _split_names(value: str) -> list[str]:
    """Names in one meta value: "A, B" is two people, "Ana Ruiz, MD" one (a part of one word is no name)."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts if len(parts) > 1 and all(len(p.split()) > 1 for p in parts) else [value]


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("url") or value.get("contentUrl")
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.rsplit("/", 1)[-1].casefold() for k in kinds if isinstance(k, str)}


def _json_objects(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document at the top, in arrays and in `@graph`."""
    if depth > 3:
        return
    if isinstance(value, list):
        for item in value:
            yield from _json_objects(item, depth + 1)
    elif isinstance(value, dict):
        yield value
        if "@graph" in value:
            yield from _json_objects(value["@graph"], depth + 1)


def _names(value: Any) -> list[str]:
    """Author names from a string, an object with `name`, or a list of either (profile URLs are no names)."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):
            name = next((n for n in name if isinstance(n, str)), None)
        if isinstance(name, str) and (name := _BY.sub("", " ".join(name.split()))) and not name.startswith("http"):
            names.append(name)
    return list(dict.fromkeys(names))


def _resolved(value: Any, ids: dict[str, dict[str, Any]]) -> Any:
    """`value` with references (`{"@id": ...}` alone) to other objects of the page's JSON-LD replaced by them."""
    if isinstance(value, list):
        return [_resolved(v, ids) for v in value]
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
        return ids.get(value["@id"], value)
    return value


def _same_page(item: dict[str, Any], url: str) -> bool:
    main = item.get("mainEntityOfPage")
    addresses = [item.get("url"), main.get("@id") if isinstance(main, dict) else main]
    return any(
        isinstance(a, str) and a.rstrip("/").split("//")[-1] == url.rstrip("/").split("//")[-1] for a in addresses
    )


def _read_json_ld(tree: HtmlElement, url: str, meta: PageMeta) -> None:
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script[@type]"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            objects.extend(_json_objects(json.loads(script.text, strict=False)))
        except (ValueError, RecursionError):
            continue
    articles = [o for o in objects if _types(o) & _ARTICLE_TYPES]
    # The page's own article: the one naming this address, else the first (lists of related ones come later).
    article = next((a for a in articles if _same_page(a, url)), articles[0] if articles else None)
    if article is not None:
        ids = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}

        def field(name: str) -> Any:
            return _resolved(article.get(name), ids)

        meta.offer("title", _text(field("headline")) or _text(field("name")), "json-ld")
        meta.offer("authors", _names(field("author")), "json-ld")
        meta.offer("published", parse_page_date(field("datePublished")), "json-ld")
        meta.offer("modified", parse_page_date(field("dateModified")), "json-ld")
        meta.offer("section", _text(field("articleSection")), "json-ld")
        meta.offer("image_url", _text(field("image")), "json-ld")
        meta.offer("description", _text(field("description")), "json-ld")
        publisher = field("publisher")
        meta.offer("site_name", _text(publisher) if isinstance(publisher, dict | list) else None, "json-ld")
    site = next((o for o in objects if _types(o) & _SITE_TYPES and isinstance(o.get("name"), str)), None)
    if site is not None:
        meta.offer("site_name", _text(site.get("name")), "json-ld")


# meta property/name -> field; `article:*` and Open Graph first, then the plain names many sites use.
_META = {
    "og:title": "title", "twitter:title": "title",
    "article:published_time": "published", "og:article:published_time": "published",
    "article:modified_time": "modified", "og:updated_time": "modified", "og:article:modified_time": "modified",
    "article:section": "section", "og:article:section": "section",
    "og:image": "image_url", "og:image:url": "image_url", "og:image:secure_url": "image_url",
    "twitter:image": "image_url",
    "og:description": "description", "description": "description", "twitter:description": "description",
    "og:site_name": "site_name",
    "article:author": "authors", "author": "authors",
    "og:url": "canonical_url",
}  # fmt: skip


def _read_meta_tags(tree: HtmlElement, meta: PageMeta) -> None:
    found: dict[str, list[str]] = {}
    for tag in tree.iterfind(".//meta"):
        key = (tag.get("property") or tag.get("name") or "").strip().lower()
        content = " ".join((tag.get("content") or "").split())
        if key in _META and content:
            found.setdefault(key, []).append(content)
    canonical = next(
        (link.get("href") for link in tree.iterfind(".//link[@rel]") if "canonical" in (link.get("rel") or "").lower()),
        None,
    )
    meta.offer("canonical_url", (canonical or "").strip() or None, "link")
    for key, name in _META.items():
        values = found.get(key)
        if not values:
            continue
        origin = "open-graph" if key.startswith(("og:", "article:", "twitter:")) else "meta"
        if name == "authors":
            meta.offer(name, _names([name for value in values for name in _split_names(value)]), origin)
        elif name in ("published", "modified"):
            meta.offer(name, parse_page_date(values[0]), origin)
        else:
            meta.offer(name, values[0], origin)


def _outside_boxes(element: etree._Element) -> bool:
    return not any(
        a.tag in _ELSEWHERE or _ELSEWHERE_CLASS.search(f"{a.get('class') or ''} {a.get('id') or ''}")
        for a in element.iterancestors()
    )


def _prop_value(element: HtmlElement) -> str | None:
    value = element.get("content") or element.get("datetime")
    if value is None and element.tag in ("img", "link", "a", "meta"):
        value = element.get("src") or element.get("href")
    if value is None and element.get("itemscope") is not None:
        names = [e for e in element.iterfind(".//*[@itemprop='name']")]
        value = _prop_value(names[0]) if names else None
    if value is None:
        value = element.text_content()
    return " ".join(value.split()) or None


def _read_microdata(tree: HtmlElement, meta: PageMeta) -> None:
    scopes = [
        e
        for e in tree.iterfind(".//*[@itemtype]")
        if {t.rsplit("/", 1)[-1].casefold() for t in (e.get("itemtype") or "").split()} & _ARTICLE_TYPES
        and _outside_boxes(e)
    ]
    if not scopes:
        return
    props: dict[str, list[str]] = {}
    for element in scopes[0].iterfind(".//*[@itemprop]"):
        value = _prop_value(element)
        for name in (element.get("itemprop") or "").split():
            if value:
                props.setdefault(name, []).append(value)
    first = {name: values[0] for name, values in props.items()}
    meta.offer("title", first.get("headline") or first.get("name"), "microdata")
    meta.offer("authors", _names(props.get("author", [])), "microdata")
    meta.offer("published", parse_page_date(first.get("datePublished")), "microdata")
    meta.offer("modified", parse_page_date(first.get("dateModified")), "microdata")
    meta.offer("section", first.get("articleSection"), "microdata")
    meta.offer("image_url", first.get("image") or first.get("thumbnailUrl"), "microdata")
    meta.offer("description", first.get("description"), "microdata")


def _first_time(tree: HtmlElement) -> PageDate | None:
    """The article's own `<time datetime>`: in `<article>` or the page, never in boxes of other articles."""
    for root in [*tree.findall(".//article")[:1], tree]:
        for element in root.iterfind(".//time[@datetime]"):
            if _outside_boxes(element) and (date := parse_page_date(element.get("datetime"))):
                return date
    return None
