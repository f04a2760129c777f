"""Payload bytes -> `RawItem`s. Pure: never touches the network or the store."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pipeline.errors import PermanentError
from pipeline.models import DateSource, RawItem, Section, Source

__all__ = ["parse_document"]

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
        language_hint=source.language,
        source_name=source.display_name,
    )
