"""Enrichment of normalised articles. Pure given its inputs."""

from pipeline.enrich.enricher import enrich_article
from pipeline.enrich.language import detect_language
from pipeline.enrich.summary import summarise

__all__ = ["detect_language", "enrich_article", "summarise"]
