"""Text helpers normalise, enrich and the digest share: sentences, shortening, what output may carry."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["first_sentences", "http_url", "shorten", "split_sentences", "xml_safe"]

# What XML 1.0 cannot carry (its Char production): C0 controls but tab, newline and CR; lone surrogates;
# U+FFFE and U+FFFF. One of them in a headline makes the Atom feed unreadable to every XML parser.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+(?=[\"'“«(]?[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ0-9])")  # noqa: RUF001
_SENTENCE_BREAK = re.compile(  # like _SENTENCE_END, but a closing quotation mark stays with its sentence
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”»)]))\s+(?=[\"'“«„(]?[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ0-9])"  # noqa: RUF001
)
# The word before a full stop that is an abbreviation, not a sentence's end: an initial ("J."), letters with
# stops ("U.S.", "a.m."), or a capitalised word of at most three letters ("Dr.", "Gov.", "Wis.", "St.").
_ABBREVIATION = re.compile(r"(?:^|[\s(\"'“«„])(?:\w|(?:\w\.)+\w|[A-ZÀ-ÖØ-ÞА-Я][a-zà-öø-ÿа-я]{1,2})\.$")
# Before a number, a short word with a stop is one too: "Sept. 5", "No. 10", "Art. 3", "p. 12", "no. 4".
_BEFORE_NUMBER = re.compile(r"(?:^|\s)(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{0,3}|[a-z]{1,2})\.$")


def _breaks(pattern: re.Pattern[str], text: str) -> list[str]:
    """`text` split where `pattern` matches, except after an abbreviation or before an agency credit "(AP)"."""
    parts: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        before = text[start : match.start()]
        stop = before.endswith(".")
        follows = text[match.end() : match.end() + 1]
        if (
            _ABBREVIATION.search(before[-12:])
            or (stop and follows == "(")  # "LA CROSSE, Wis. (AP)": an agency's credit
            or (follows.isdigit() and _BEFORE_NUMBER.search(before[-8:]))
        ):
            continue
        parts.append(text[start : match.start()])
        start = match.end()
    parts.append(text[start:])
    return [p for p in parts if p]


def split_sentences(text: str) -> list[str]:
    """Sentences of the text's paragraphs; headings (short lines with no closing punctuation) are left out."""
    sentences: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if not paragraph or (paragraph[-1] not in '.!?…"”»)' and len(paragraph.split()) < 8):
            continue
        sentences.extend(_breaks(_SENTENCE_BREAK, paragraph))
    return sentences


def first_sentences(text: str, count: int) -> str:
    return " ".join(_breaks(_SENTENCE_END, text)[:count]).strip()


def shorten(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary before `limit` with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:  # drop the word the limit cut through
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (fine for HTML and JSON too: none of them is visible)."""
    return _NOT_XML.sub("", text)


def http_url(url: str | None) -> str | None:
    """`url` (trimmed) if it is an absolute http(s) URL with a host; None for anything else (javascript:,
    data:, relative, unreadable, or with spaces or control characters inside)."""
    url = (url or "").strip()
    if not url or any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # an out-of-range or non-numeric port raises ValueError
    except ValueError:
        return None
    return url if parts.scheme.lower() in {"http", "https"} and parts.hostname else None
