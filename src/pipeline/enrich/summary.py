"""A short extractive summary, led by the article's lead."""

from __future__ import annotations

from pipeline.models import Article
from pipeline.normalise import first_sentences

__all__ = ["summarise"]

MAX_SUMMARY_CHARS = 480


def summarise(article: Article, sentences: int = 3) -> str:
    """Take the first sentences of the lead (news puts the essentials first), capped in length."""
    for count in range(sentences, 0, -1):
        summary = first_sentences(article.lead, count)
        if len(summary) <= MAX_SUMMARY_CHARS:
            return summary
    return article.lead[: MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
