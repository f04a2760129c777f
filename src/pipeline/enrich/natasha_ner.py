"""Russian people, organisations and places from natasha's news NER (slovnet's model over navec embeddings, both
shipped inside the natasha wheel), behind the small part of spaCy's interface the enricher uses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from natasha import NewsNERTagger, Segmenter

__all__ = ["NATASHA", "NatashaDoc", "NatashaEntity", "NatashaRecogniser"]

# The name to configure in NEWS_SPACY_MODELS for a language natasha reads ({"ru": "natasha"}).
NATASHA = "natasha"


@dataclass(frozen=True, slots=True)
class NatashaEntity:
    label_: str  # PER, ORG or LOC, as WikiNER-style spaCy models label them
    start_char: int
    end_char: int
    text: str


@dataclass(frozen=True, slots=True)
class NatashaDoc:
    ents: list[NatashaEntity]


class NatashaRecogniser:
    """Loads the embeddings and the NER model once (no download: both are the wheel's package data)."""

    def __init__(self) -> None:
        from natasha import NewsEmbedding, NewsNERTagger, Segmenter

        self._segmenter: Segmenter = Segmenter()
        self._tagger: NewsNERTagger = NewsNERTagger(NewsEmbedding())

    def pipe(self, texts: Iterable[str], batch_size: int = 16) -> Iterator[NatashaDoc]:
        del batch_size  # natasha tags one document at a time
        from natasha import Doc

        for text in texts:
            doc = Doc(text)
            doc.segment(self._segmenter)
            doc.tag_ner(self._tagger)
            yield NatashaDoc([NatashaEntity(s.type, s.start, s.stop, s.text) for s in doc.spans])
