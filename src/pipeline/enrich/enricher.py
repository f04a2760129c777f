"""Apply every enrichment to one article."""

from __future__ import annotations

from pipeline.enrich.language import detect_language
from pipeline.enrich.summary import summarise
from pipeline.models import Article

__all__ = ["enrich_article"]


def enrich_article(article: Article, languages: tuple[str, ...]) -> Article:
    """Return the article with language, summary and story fields filled in."""
    language, confidence = detect_language(f"{article.title}\n{article.text}", languages)
    return article.model_copy(
        update={
            "language": language or article.language,
            "language_confidence": confidence if language else None,
            "summary": summarise(article),
            # Each article is its own story until near-duplicate grouping assigns shared ones.
            "story_id": article.story_id or article.id,
        }
    )
