"""Apply every enrichment to a batch of articles, recording which enricher (and version) made each field."""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from pipeline.enrich.entities import Span, extract_entities, name_sentences
from pipeline.enrich.gazetteer import GAZETTEER_VERSION, gazetteer
from pipeline.enrich.keywords import extract_keywords
from pipeline.enrich.language import LANGUAGE_VERSION, detect_language
from pipeline.enrich.natasha_ner import NATASHA, NatashaRecogniser
from pipeline.enrich.quotes import extract_quotes
from pipeline.enrich.summary import MAX_SENTENCES, summarise
from pipeline.models import Article
from pipeline.settings import Settings

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["RULES_VERSION", "Enricher", "load_spacy"]

# Bump when the rules in entities/quotes/keywords/summary change, so stored articles are enriched again.
RULES_VERSION = "6"
_BATCH = 16  # articles per model batch
_GAP = " "


class Enricher:
    """One per process: loads the spaCy model and the gazetteer once, then enriches batches with `nlp.pipe`."""

    # What `enrich` sets: an article enriched by these same enrichers can keep them (see `reuse`).
    FIELDS = ("language", "language_confidence", "entities", "quotes", "keywords", "summary", "enrichment")

    def __init__(
        self,
        languages: tuple[str, ...],
        model: str,
        ner_max_chars: int,
        models: dict[str, str] | None = None,
        country_names: dict[str, str] | None = None,
    ) -> None:
        self.languages = languages
        self.country_names = tuple(sorted((country_names or {}).items()))
        self.model_name = model
        # One NER model per configured language that has one installed; the others get the gazetteer only.
        self.models = {lang: name for lang, name in ({"en": model} | (models or {})).items() if lang in languages}
        self.ner_max_chars = ner_max_chars
        made_by = "+".join(_model_version(self.models[lang]) for lang in sorted(self.models))
        names = "".join(f"+{code}={name}" for code, name in self.country_names)  # a renamed country re-enriches
        self.provenance = {
            "language": LANGUAGE_VERSION,
            "entities": f"{made_by}+{GAZETTEER_VERSION}{names}+rules-{RULES_VERSION}",
            "quotes": f"rules-{RULES_VERSION}",
            "keywords": f"rules-{RULES_VERSION}",
            "summary": f"textrank-{MAX_SENTENCES}-rules-{RULES_VERSION}",
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        return cls(
            tuple(settings.languages),
            settings.spacy_model,
            settings.ner_max_chars,
            settings.spacy_models,
            settings.country_names,
        )

    def is_current(self, article: Article) -> bool:
        """True when the article was enriched by exactly these enrichers (its story fields are set on store)."""
        return all(article.enrichment.get(field) == made_by for field, made_by in self.provenance.items())

    def reuse(self, article: Article, previous: Article | None) -> Article | None:
        """`article` with the enrichment of its stored `previous` version, when that one is still valid:
        same content, enriched by these enrichers. None when it must be enriched again."""
        if previous is None or previous.content_hash != article.content_hash or not self.is_current(previous):
            return None
        return article.model_copy(update={field: getattr(previous, field) for field in self.FIELDS})

    def enrich(self, articles: Sequence[Article]) -> list[Article]:
        places = gazetteer(self.languages, self.country_names)
        detected = [detect_language(f"{a.title}\n{a.text}", a.language) for a in articles]
        languages = [lang or a.language for (lang, _), a in zip(detected, articles, strict=True)]
        spans = self._spans([a.text for a in articles], languages)
        enriched: list[Article] = []
        for article, (found, confidence), language, doc_spans in zip(articles, detected, languages, spans, strict=True):
            entities = extract_entities(article.text, doc_spans, places, language, model=language in self.models)
            enriched.append(
                article.model_copy(
                    update={
                        "language": language,
                        "language_confidence": confidence if found else None,
                        "entities": entities,
                        "quotes": extract_quotes(article.text, entities),
                        "keywords": extract_keywords(article.title, article.text, entities, language),
                        "summary": summarise(article.lead, article.text),
                        "enrichment": dict(self.provenance),
                    }
                )
            )
        return enriched

    def _spans(self, texts: list[str], languages: list[str | None]) -> list[list[Span]]:
        spans: list[list[Span]] = [[] for _ in texts]
        for language, model in self.models.items():
            chosen = [i for i, lang in enumerate(languages) if lang == language]
            # One document per article of the stretches that can hold a name, a space apart: the model pays its
            # per-document cost once, a break between them would be one more token each (10% of all), and on GUM
            # the space scores the same.
            stretches = {i: name_sentences(_head(texts[i], self.ner_max_chars)) for i in chosen}
            docs = (_GAP.join(texts[i][a:b] for a, b in stretches[i]) for i in chosen)
            for i, ents in zip(chosen, _entities(model, docs), strict=True):
                starts, ends, offsets = [], [], []
                at = 0
                for a, b in stretches[i]:
                    starts.append(at)
                    ends.append(at + b - a)
                    offsets.append(a - at)
                    at += b - a + len(_GAP)
                for label, start, end, _ in ents:
                    k = bisect_right(starts, start) - 1
                    if k >= 0 and end <= ends[k]:  # a span that crosses into the next stretch is dropped
                        spans[i].append(Span(label, offsets[k] + start, offsets[k] + end))
        return spans

    def load(self) -> None:
        """Load every configured language's model now (a worker's memory then holds them all)."""
        for model in self.models.values():
            _nlp(model)


def _head(text: str, limit: int) -> str:
    """The whole text, unless it is longer than `limit` (a guard against pathological input): then cut at the end
    of a paragraph or sentence so no name is split."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind("\n", 0, limit), text.rfind(". ", 0, limit) + 1)
    return text[: cut if cut > limit // 2 else limit]


def _entities(model: str, docs: Iterable[str]) -> Iterator[list[tuple[str, int, int, str]]]:
    """(label, start, end, text) of each document's entities, from a spaCy pipeline or natasha."""
    for doc in _nlp(model).pipe(docs, batch_size=_BATCH):  # natasha's recogniser answers as spaCy does
        yield [(e.label_, e.start_char, e.end_char, e.text) for e in doc.ents]


@cache
def _nlp(model: str) -> Language | NatashaRecogniser:
    if model == NATASHA:  # Russian: natasha's own recogniser, not a spaCy pipeline
        return NatashaRecogniser()
    nlp = load_spacy(model)
    # Only the entity recogniser, and the shared token-to-vector layer when it listens to one (French does;
    # the English models' recognisers have their own).
    keep = ["ner"]
    if "tok2vec" in nlp.pipe_names and "ner" in getattr(nlp.get_pipe("tok2vec"), "listening_components", []):
        keep.append("tok2vec")
    for name in [n for n in nlp.pipe_names if n not in keep]:
        nlp.remove_pipe(name)
    return nlp


def load_spacy(model: str, exclude: Sequence[str] = ()) -> Language:
    """The installed spaCy pipeline `model`, without the components in `exclude`."""
    import spacy  # a second or two to import: only enrichment needs it

    with warnings.catch_warnings():
        # The English model (en_core_web_md 3.7.1) was trained with spaCy 3.7: 3.8 has the same architectures
        # and runs it, but warns at every load.
        warnings.filterwarnings("ignore", r"\[W095\] Model .* was trained with spaCy v3\.7\.", UserWarning)
        return spacy.load(model, exclude=list(exclude))


def _model_version(model: str) -> str:
    try:
        return f"{model}-{version(model.replace('_', '-'))}"
    except PackageNotFoundError:
        return model
