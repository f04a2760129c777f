"""The enrich stage: language, entities, quotes, keywords and summary for every staged article."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

from pipeline.models import Article, Enriched, Normalised
from pipeline.rules import RuleSet
from pipeline.settings import Settings
from pipeline.sources import load_sources
from pipeline.stages.handover import advance, for_each_source, read_jsonl, write_jsonl
from pipeline.storage.keys import article_key, staging_key
from pipeline.storage.store import ObjectStore

if TYPE_CHECKING:
    from pipeline.enrich import Enricher

__all__ = ["enrich_source", "enrich_sources", "enricher"]


@cache
def _enricher(
    languages: tuple[str, ...],
    model: str,
    ner_max_chars: int,
    models: tuple[tuple[str, str], ...],
    country_names: tuple[tuple[str, str], ...],
) -> Enricher:
    from pipeline.enrich import Enricher  # language models load in seconds: only when there is work

    return Enricher(languages, model, ner_max_chars, dict(models), dict(country_names))


def enricher(settings: Settings) -> Enricher:
    """The process's enricher: the model and gazetteer load once, on first use."""
    models = tuple(sorted(settings.spacy_models.items()))
    names = tuple(sorted(settings.country_names.items()))
    return _enricher(tuple(settings.languages), settings.spacy_model, settings.ner_max_chars, models, names)


def enrich_sources(store: ObjectStore, settings: Settings, normalised: list[Normalised]) -> list[Enriched]:
    registry = load_sources(settings)
    return for_each_source(
        normalised, "enrich", lambda r: enrich_source(store, settings, r, registry.rules_for(r.source)), Enriched
    )


def enrich_source(
    store: ObjectStore, settings: Settings, normalised: Normalised, rules: RuleSet | None = None
) -> Enriched:
    """Enrich every staged article of one source, then apply its `rules` (those that need the enrichment).

    Content already stored and enriched by the same enricher versions is not enriched again.
    """
    if normalised.normalised_key is None:  # nothing new from this source
        return advance(normalised, Enriched)
    engine = enricher(settings)
    articles = list(read_jsonl(store, normalised.normalised_key))
    with ThreadPoolExecutor(max_workers=settings.store_concurrency) as pool:
        found = list(pool.map(store.get_bytes_or_none, (article_key(a.published_date, a.id) for a in articles)))
    reused = [
        engine.reuse(article, Article.model_validate_json(stored) if stored else None)
        for article, stored in zip(articles, found, strict=True)
    ]
    fresh = iter(engine.enrich([a for a, kept in zip(articles, reused, strict=True) if kept is None]))
    enriched = [kept if kept is not None else next(fresh) for kept in reused]
    enriched, filtered = (rules or RuleSet([])).apply(enriched)  # entity and language rules, and every tag
    staged = staging_key(normalised.run_id, "enriched", normalised.source)
    write_jsonl(store, staged, enriched)
    store.delete(normalised.normalised_key)
    return advance(normalised, Enriched, enriched_key=staged, filtered=normalised.filtered + filtered)
