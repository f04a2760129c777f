"""`RawItem` -> `Article`: clean text, a stable id, a readable title, trustworthy dates. Pure."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ftfy
import tldextract
from w3lib.url import canonicalize_url

from pipeline.errors import PermanentError
from pipeline.html_text import html_to_sections, sanitise_html
from pipeline.models import Article, DateSource, RawItem, Section, TextSource
from pipeline.text import first_sentences, http_url, shorten

__all__ = ["article_id", "canonical_url", "clean_text", "derive_title", "normalise_item", "same_site"]

MAX_TITLE_CHARS = 120
MAX_FEED_TITLE_CHARS = 1000  # a megabyte "title" is an attack or a bug, not a headline
EARLIEST_TRUSTED = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|_hsenc|_hsmi|igshid)$", re.I)
# Repair mojibake but keep the publisher's typography: curly quotes and full-width characters stay.
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, normalization="NFC")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,;:!?])(?= |$)")
# Never shown, only misleading or breaking: bidi embeddings, overrides and isolates (a headline that displays
# reversed or reordered), tag characters (invisible ASCII), and what XML 1.0 cannot carry (C0 controls,
# U+FFFE, U+FFFF, lone surrogates). The C0 controls Python counts as whitespace become spaces instead.
_UNSEEN = re.compile("[\x00-\x08\x0e-\x1b\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff\U000e0000-\U000e007f]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def clean_text(value: str) -> str:
    """Decode entities, repair mojibake (ftfy), NFC-normalise, drop invisible and bidi control characters
    and collapse whitespace."""
    # Whitespace first: ftfy can read a no-break space as part of mojibake, and would then differ on a second pass.
    value = _collapse(html.unescape(value))
    # Printable ASCII without entities is something ftfy leaves as it is (no mojibake, control or escape
    # characters): most English text, at a fifth of normalising's cost.
    if not (value.isascii() and value.isprintable() and "&" not in value):
        value = _collapse(ftfy.fix_text(value, _FTFY))  # repaired mojibake can be a bidi override: again
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", value)


def _collapse(value: str) -> str:
    return " ".join(_UNSEEN.sub("", value).replace("\u00a0", " ").split())


# Feed furniture that is not part of the story: whole paragraphs, and tails of otherwise real ones.
_BOILERPLATE = re.compile(
    r"^(?:the (?:post|entry) .{1,300} (?:appeared first|was first posted) on .{1,200}"
    r"|(?:read|continue reading|read the full (?:story|article)|read more|more)(?: (?:here|on .{1,60}))?\W*"
    r"|(?:share|tweet|email|print|pin)(?: (?:this|it|on \w+))*\W*"
    r"|(?:click|tap) here to .{1,80}"
    r"|(?:photo|image|source|via)s?: .{1,80})$",
    re.IGNORECASE,
)
_BOILERPLATE_TAIL = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…|\.\.\.)?\s*(?:continue reading|read more)\W*$", re.I)


def strip_boilerplate(paragraphs: list[str]) -> list[str]:
    kept = []
    for paragraph in paragraphs:
        if _BOILERPLATE.match(paragraph):
            continue
        ending = paragraph[-60:].casefold()
        if "continue reading" in ending or "read more" in ending:  # the regex scans every position: only if needed
            paragraph = _BOILERPLATE_TAIL.sub("", paragraph)
        paragraph = paragraph.removesuffix(" [\u2026]").removesuffix(" [...]")
        if paragraph:
            kept.append(paragraph)
    return kept


def canonical_url(url: str) -> str | None:
    """w3lib's canonical form (lower-case host, sorted query, dot segments resolved, no fragment), without
    the default port, credentials or tracking parameters; None when `url` is no usable http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # out of range or not a number: ValueError
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    try:
        return canonicalize_url(urlunsplit((scheme, host, parts.path or "/", query, "")))
    except ValueError:
        return None


_SITES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled suffix list: no download


def same_site(url: str, other: str | None) -> bool:
    """True when both URLs are on one site: the same registered domain (`www.bbc.co.uk`, `news.bbc.co.uk`),
    or the same host where there is none (an IP address, `localhost`)."""
    try:
        hosts = [(urlsplit(u).hostname or "").lower() if u else "" for u in (url, other)]
    except ValueError:  # an unreadable IPv6 literal
        return False
    if not all(hosts):
        return False
    domains = [_SITES(h).top_domain_under_public_suffix for h in hosts]
    return domains[0] == domains[1] if all(domains) else hosts[0] == hosts[1]


def _normalised_title(title: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", title.casefold()).split())


def article_id(source: str, url: str | None, title: str, day: str, guid: str | None = None) -> str:
    """Hash of the canonical URL; without a URL, of source + the feed's guid, or + normalised title + date."""
    return _article_id(source, canonical_url(url) if url else None, title, day, guid)


def _article_id(source: str, canonical: str | None, title: str, day: str, guid: str | None) -> str:
    if canonical:
        basis = canonical
    elif guid:
        basis = f"{source}\nguid:{guid}"
    else:
        basis = f"{source}\n{_normalised_title(title)}\n{day}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def derive_title(lead: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A readable title from the lead: its first sentence, shortened at a word boundary if needed."""
    return shorten(first_sentences(lead, 1).rstrip(" ."), limit)


def _trusted_date(raw: RawItem) -> tuple[datetime, DateSource, bool]:
    if raw.published_at is None or raw.date_source is None:
        return raw.fetched_at, DateSource.FETCHED, True
    published = raw.published_at.astimezone(UTC)
    if published < EARLIEST_TRUSTED or published > raw.fetched_at + FUTURE_TOLERANCE:
        return raw.fetched_at, DateSource.FETCHED, True
    return published, raw.date_source, False


def _render_text(sections: list[Section]) -> str:
    blocks: list[str] = []
    for section in sections:
        if section.heading:
            blocks.append(section.heading)
        blocks.extend(section.paragraphs)
    return "\n\n".join(blocks)


def normalise_item(raw: RawItem) -> Article:
    """Turn one raw item into a validated article, or raise `PermanentError` with the reason."""
    source_sections = raw.sections or (html_to_sections(raw.html) if raw.html else [])
    sections = [
        Section(
            heading=clean_text(s.heading) if s.heading else None,
            paragraphs=strip_boilerplate([p for p in (clean_text(p) for p in s.paragraphs) if p]),
        )
        for s in source_sections
    ]
    sections = [s for s in sections if s.paragraphs]
    lead = sections[0].paragraphs[0] if sections else ""
    title = shorten(clean_text(raw.title or ""), MAX_FEED_TITLE_CHARS)
    title_derived = not title
    if title_derived:
        title = derive_title(lead)
    if not title:
        raise PermanentError("item has neither a title nor any text")
    published, date_source, flagged = _trusted_date(raw)
    text = _render_text(sections)
    url = canonical_url(raw.url) if raw.url else None
    return Article(
        id=_article_id(raw.source_id, url, title, published.date().isoformat(), raw.guid),
        source=raw.source_id,
        source_name=clean_text(raw.source_name or "") or raw.source_id,
        url=url,
        canonical_url=canonical_url(raw.canonical_url) if raw.canonical_url else None,
        title=title,
        title_derived=title_derived,
        lead=lead,
        sections=sections,
        text=text,
        text_source=raw.text_source or TextSource.FEED,
        html=sanitise_html(raw.html) if raw.html else None,
        published_at=published,
        published_date=published.date(),
        date_source=date_source,
        date_flagged=flagged,
        fetched_at=raw.fetched_at,
        authors=[clean_text(a) for a in raw.authors if a.strip()],
        categories=[clean_text(c) for c in raw.categories if c.strip()],
        image_url=http_url(raw.image_url),
        language=raw.language_hint,
        content_hash=hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest(),
        raw_key=raw.raw_key,
    )
