"""Enrichment of normalised articles: language, entities, quotes, keywords, summary, near-duplicates."""

from pipeline.enrich.enricher import Enricher
from pipeline.enrich.language import detect_language

__all__ = ["Enricher", "detect_language"]
