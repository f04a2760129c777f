"""Text helpers normalise and enrich share: sentences and shortening."""

from __future__ import annotations

import re

__all__ = ["first_sentences", "shorten", "split_sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+(?=[\"'“«(]?[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ0-9])")  # noqa: RUF001
_SENTENCE_BREAK = re.compile(  # like _SENTENCE_END, but a closing quotation mark stays with its sentence
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”»)]))\s+(?=[\"'“«„(]?[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ0-9])"  # noqa: RUF001
)


def split_sentences(text: str) -> list[str]:
    """Sentences of the text's paragraphs; headings (short lines with no closing punctuation) are left out."""
    sentences: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if not paragraph or (paragraph[-1] not in '.!?…"”»)' and len(paragraph.split()) < 8):
            continue
        sentences.extend(s for s in _SENTENCE_BREAK.split(paragraph) if s)
    return sentences


def first_sentences(text: str, count: int) -> str:
    return " ".join(_SENTENCE_END.split(text, maxsplit=count)[:count]).strip()


def shorten(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary before `limit` with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:  # drop the word the limit cut through
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"
