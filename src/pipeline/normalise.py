"""`RawItem` -> `Article`: clean text, a stable id, a readable title, trustworthy dates. Pure."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ftfy
import tldextract
from w3lib.url import canonicalize_url

from pipeline.errors import PermanentError
from pipeline.html_text import html_to_sections, sanitise_html
from pipeline.models import Article, DatePrecision, DateSource, RawItem, Section, TextSource
from pipeline.text import first_sentences, http_url, shorten

if TYPE_CHECKING:
    from pipeline.fulltext import PageText

__all__ = [
    "article_id",
    "canonical_url",
    "clean_text",
    "derive_title",
    "normalise_item",
    "same_site",
    "with_page",
]

MAX_TITLE_CHARS = 120
MAX_FEED_TITLE_CHARS = 1000  # a megabyte "title" is an attack or a bug, not a headline
EARLIEST_TRUSTED = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|_hsenc|_hsmi|igshid)$", re.I)
# Repair mojibake but keep the publisher's typography: curly quotes and full-width characters stay.
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, normalization="NFC")
# A stray space before a full stop or comma goes; before `: ; ! ?` it is French typography and stays.
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,])(?= |$)")
# Chinese and Japanese put no spaces between words: a space between two of their characters is a line break.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
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
        value = _CJK_SPACE.sub("", value)
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


# A dateline opening a story: an upper-case place, maybe a state and an agency, then a dash or colon.
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'\u2019 -]+(?:, [A-Z][\w.' -]{0,20}?)?(?: \([^)]{1,20}\))?\s*(?:[\u2014\u2013-]+|:)\s+"
)


def derive_title(lead: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A readable title from the lead: its first sentence without a dateline, shortened at a word boundary."""
    sentence = first_sentences(_DATELINE.sub("", lead, count=1) or lead, 1)
    return shorten(sentence.rstrip(" ."), limit)


# Notices about the page, not the story: cookies, browser support, subscriptions, sign-ups, affiliate links,
# pointers to other articles, comment counters, copyright lines. Only short paragraphs are candidates.
# Those recognised by their opening words (matched at the start only) ...
_NOTICE_OPENING = re.compile(
    r"(?:subscribe|sign up|sign in|log in|register)\b"
    r"|(?:read|see|watch|listen)(?: to)? (?:more|next|also)\b|(?:related|more on this|recommended)\b.{0,40}:?$"
    r"|(?:\d+ )?comments?(?: \(\d+\))?$|comments are closed\b|(?:leave|post|add) a (?:comment|reply)\b"
    r"|(?:like|enjoyed|share) this (?:story|article)\b|share (?:this|on)\b"
    r"|(?:©|\(c\)|copyright\b)",
    re.IGNORECASE,
)
# ... and those by words anywhere, looked for only when one of these stems is in the paragraph at all.
_NOTICE_STEMS = ("cookie", "browser", "javascript", "subscri", "newsletter", "affiliate", "commission", "commercial")
_NOTICE_ANYWHERE = re.compile(
    r"\bcookies?\b.{0,80}\b(?:use|accept|consent|polic|settings|preferences)"
    r"|\b(?:your )?browser\b.{0,80}\b(?:support|version|update|upgrade|outdated|javascript)"
    r"|\b(?:enable|turn on) javascript\b"
    r"|\b(?:already a subscriber|subscribers? only|for subscribers|subscription required|to continue reading)\b"
    r"|\bnewsletters?\b.{0,80}\b(?:sign up|subscribe|inbox|delivered)|\b(?:sign up|subscribe)\b.{0,80}\bnewsletters?\b"
    r"|\baffiliate\b|\b(?:we|may) (?:may )?(?:earn|receive) (?:a )?(?:small )?commission"
    r"|\bpersonal,? non-?commercial use\b",
    re.IGNORECASE,
)
_NOTICE_MAX_WORDS = 45
_BYLINE = re.compile(
    r"^(?i:(?:written |reported )?by|von|par|por|door|от|автор):?\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][^.!?]{0,80}$"
    r"|^(?i:published|updated|posted|last updated|veröffentlicht|aktualisiert|publié|mis à jour|publicado)\b.{0,80}$"
)
# An image caption: a credit opening it ("Photo: ...") or closing it ("... (File photo)"), or a copyright sign.
_CAPTION_OPENING = re.compile(r"(?:photos?|images?|pictures?|file photo|fotos?|bild)\s*(?::|by\b)", re.IGNORECASE)
_CAPTION_CREDIT = re.compile(r"\((?:[^()]*\b(?:photos?|images?|pictures?|file|credit)\b[^()]*)\)$", re.IGNORECASE)
_BYLINE_MAX_CHARS = 120
_STAMP = re.compile(r"\b(?:1[89]|20)\d\d\b|\b\d{1,2}[:.]\d\d\b")  # a year or a time of day
_STAMP_MAX_WORDS = 8
_LABEL_MAX_WORDS = 3  # "World", "Business news": a section label above the story
_LABEL_MAX_CHARS = 30
_SENTENCE_ENDS = '.!?"”»。！？」』)'  # noqa: RUF001


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _is_notice(paragraph: str) -> bool:
    """A notice about the page, or an image caption: never part of the story, wherever it stands."""
    if paragraph.count(" ") >= _NOTICE_MAX_WORDS:
        return False
    if _NOTICE_OPENING.match(paragraph) or _CAPTION_OPENING.match(paragraph) or "©" in paragraph:
        return True
    if paragraph.endswith(")") and _CAPTION_CREDIT.search(paragraph):
        return True
    folded = paragraph.casefold()
    return any(stem in folded for stem in _NOTICE_STEMS) and _NOTICE_ANYWHERE.search(paragraph) is not None


def _is_headline(text: str, title: str) -> bool:
    """The headline again: the same words, or nearly (a feed's and a page's headline differ by a word or two)."""
    words = _words(text)
    if not title or not words:
        return False
    if words == title or (len(words) > 20 and title.startswith(words)):  # whole, or cut short
        return True
    mine, theirs = set(words.split()), set(title.split())
    return len(mine) <= 30 and text.rstrip()[-1:] not in ".!?" and len(mine & theirs) >= 0.8 * len(mine | theirs)


def _is_opening_furniture(paragraph: str, title: str, authors: list[str]) -> bool:
    """What stands above a story's first paragraph: the headline again, a byline, a time stamp or a dateline
    alone, a label."""
    words = _words(paragraph)
    if not words or _is_headline(paragraph, title):
        return True
    short = len(paragraph) <= _BYLINE_MAX_CHARS and paragraph.rstrip()[-1:] not in ".!?"
    if short and (_BYLINE.match(paragraph) or any(f" {a} " in f" {words} " for a in authors)):
        return True  # "By Jane Doe", or the article's authors named with no sentence around them
    if short and len(paragraph.split()) <= _STAMP_MAX_WORDS and _STAMP.search(paragraph):
        return True  # "14 March 2025, 09:30": when, not what
    if len(words.split()) <= 5 and paragraph.rstrip()[-1:] in ":\u2014\u2013-" and paragraph.upper() == paragraph:
        return True  # a dateline standing alone: "NEW DELHI:"
    return (
        len(paragraph.split()) <= _LABEL_MAX_WORDS
        and len(paragraph) <= _LABEL_MAX_CHARS
        and paragraph.rstrip()[-1:] not in _SENTENCE_ENDS
    )


def drop_furniture(sections: list[Section], title: str, authors: list[str] | None = None) -> list[Section]:
    """The sections without notices anywhere, and without what stands above the first real paragraph:
    a repeated headline, bylines, time stamps and datelines standing alone, section labels and captions.
    A text with nothing else is kept as it is."""
    headline = _words(title)
    names = [n for n in (_words(a) for a in authors or []) if n]
    kept: list[Section] = []
    started = False
    for section in sections:
        heading = section.heading
        paragraphs = [p for p in section.paragraphs if not _is_notice(p)]
        if not started:
            if heading and (_is_headline(heading, headline) or _is_notice(heading)):
                heading = None
            while paragraphs and _is_opening_furniture(paragraphs[0], headline, names):
                paragraphs = paragraphs[1:]
            started = bool(paragraphs)
        if paragraphs:
            kept.append(Section(heading=heading, paragraphs=paragraphs))
    return kept or sections  # a text that is nothing but a headline or a notice stays what it is


def with_page(item: RawItem, page: PageText) -> RawItem:
    """`item` with its article page's text and metadata: the feed's values win, the page's fill the gaps.

    A page may name any address as canonical; only one on the item's own site is kept. The item's link
    stays its address (and id) whether or not the page was fetched.
    """
    meta = page.meta
    origins = dict(item.origins)
    update: dict[str, Any] = {}

    def fill(field: str, value: Any, origin_of: str) -> None:
        if value not in (None, "", []) and getattr(item, field) in (None, "", []):
            update[field] = value
            origins[field] = meta.origins.get(origin_of, "page")

    canonical = page.canonical_url
    update["canonical_url"] = canonical if canonical and same_site(canonical, item.url) else None
    if update["canonical_url"]:
        origins["canonical_url"] = meta.origins.get("canonical_url", "page")
    if page.html:
        update |= {"html": page.html, "sections": [], "text_source": TextSource.PAGE}
    fill("title", meta.title, "title")
    fill("authors", meta.authors, "authors")
    fill("section", meta.section, "section")
    fill("description", meta.description, "description")
    fill("site_name", meta.site_name, "site_name")
    fill("image_url", http_url(meta.image_url), "image_url")
    if meta.modified is not None and item.modified_at is None:
        update["modified_at"] = meta.modified.value
        origins["modified_at"] = meta.origins.get("modified", "page")
    published = meta.published
    # The page's date fills a missing one, and a time of day on the same day makes a date-only value exact.
    if published is not None and (
        item.published_at is None
        or (
            item.published_precision is DatePrecision.DAY
            and published.has_time
            and published.value.astimezone(UTC).date() == item.published_at.astimezone(UTC).date()
        )
    ):
        precision = DatePrecision.TIME if published.has_time else DatePrecision.DAY
        update |= {"published_at": published.value, "date_source": DateSource.PAGE, "published_precision": precision}
        origins["published_at"] = meta.origins.get("published", "page")
    return item.model_copy(update=update | {"origins": origins})


def _trusted_date(raw: RawItem) -> tuple[datetime, DateSource, bool]:
    if raw.published_at is None or raw.date_source is None:
        return raw.fetched_at, DateSource.FETCHED, True
    published = raw.published_at  # in the zone the input gave: the instant is what is compared
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


_ORIGINS = ("title", "authors", "published_at", "image_url", "canonical_url", "categories")


def normalise_item(raw: RawItem) -> Article:
    """Turn one raw item into a validated article, or raise `PermanentError` with the reason."""
    source_sections = raw.sections or (html_to_sections(raw.html) if raw.html else [])
    title = shorten(clean_text(raw.title or ""), MAX_FEED_TITLE_CHARS)
    sections = [
        Section(
            heading=clean_text(s.heading) if s.heading else None,
            paragraphs=strip_boilerplate([p for p in (clean_text(p) for p in s.paragraphs) if p]),
        )
        for s in source_sections
    ]
    sections = drop_furniture([s for s in sections if s.paragraphs], title, raw.authors)
    lead = sections[0].paragraphs[0] if sections else ""
    title_derived = not title
    if title_derived:
        title = derive_title(lead)
    if not title:
        raise PermanentError("item has neither a title nor any text")
    published, date_source, flagged = _trusted_date(raw)
    text = _render_text(sections)
    url = canonical_url(raw.url) if raw.url else None
    given = TextSource.DOCUMENT.value if raw.text_source is TextSource.DOCUMENT else TextSource.FEED.value
    origins = {f: raw.origins.get(f, given) for f in _ORIGINS if getattr(raw, f)} | raw.origins
    if title_derived:
        origins["title"] = "lead"
    if flagged:
        origins.pop("published_at", None)
    day = published.astimezone(UTC).date()
    return Article(
        id=_article_id(raw.source_id, url, title, day.isoformat(), raw.guid),
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
        published_date=day,
        published_precision=DatePrecision.TIME if flagged else raw.published_precision,
        modified_at=raw.modified_at,
        date_source=date_source,
        date_flagged=flagged,
        fetched_at=raw.fetched_at,
        authors=[clean_text(a) for a in raw.authors if a.strip()],
        categories=[clean_text(c) for c in raw.categories if c.strip()],
        section=clean_text(raw.section) if raw.section else None,
        description=clean_text(raw.description) if raw.description else None,
        site_name=clean_text(raw.site_name) if raw.site_name else None,
        image_url=http_url(raw.image_url),
        enclosures=raw.enclosures,
        origins=origins,
        language=raw.language_hint,
        content_hash=hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest(),
        raw_key=raw.raw_key,
    )
