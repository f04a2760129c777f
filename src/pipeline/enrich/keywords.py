"""Keywords: frequent content-word phrases and the article's main entities, with no two sharing a word."""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from pipeline.models import Entity

__all__ = ["extract_keywords"]

_WORD = re.compile(r"[^\W\d_][\w'’-]*")  # noqa: RUF001
_POSSESSIVE = re.compile(r"['’]s$")  # noqa: RUF001
_MAX_CHARS = 20_000
_BREAK = re.compile(r"[.,;:!?()\n\"“”«»]")


@lru_cache(maxsize=16)
def _stop_words(language: str | None) -> frozenset[str]:
    """spaCy's stop-word list for the language (English when unknown); the lists are plain data, no model."""
    try:
        module = importlib.import_module(f"spacy.lang.{language or 'en'}.stop_words")
    except ImportError:
        module = importlib.import_module("spacy.lang.en.stop_words")
    return frozenset(w.casefold() for w in module.STOP_WORDS)


def extract_keywords(title: str, text: str, entities: list[Entity], language: str | None, limit: int = 8) -> list[str]:
    """Rank 1-3 word phrases by frequency (title and lead count double) and keep the best non-overlapping ones.

    Near-identical candidates ("foreign minister", "minister", "ukrainian foreign minister") share a word, so
    only the best of them is kept.
    """
    stop = _stop_words(language)
    scores: dict[str, float] = {}
    surface: dict[str, str] = {}
    head = len(title) + 1 + min(len(text), 600)
    body = f"{title}\n{text[:_MAX_CHARS]}"
    for run in _content_runs(body, stop):
        for n in (1, 2, 3):
            for i in range(len(run) - n + 1):
                words = run[i : i + n]
                key = " ".join(w.casefold() for w, _ in words)
                weight = (2.0 if words[0][1] < head else 1.0) * (1.0 + 0.5 * (n - 1))
                scores[key] = scores.get(key, 0.0) + weight
                surface.setdefault(key, " ".join(w for w, _ in words))
    for entity in entities:  # people, organisations and places are what news is about
        key = entity.name.casefold()
        scores[key] = scores.get(key, 0.0) + 1.5 * entity.count
        surface[key] = entity.name
    chosen: list[str] = []
    used: set[str] = set()
    for key, score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
        tokens = set(key.split())
        if score < 2 or tokens & used:
            continue
        chosen.append(surface[key])
        used |= tokens
        if len(chosen) == limit:
            break
    return chosen


def _content_runs(text: str, stop: frozenset[str]) -> list[list[tuple[str, int]]]:
    """Runs of adjacent content words within a sentence, with their offsets."""
    runs: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    last_end = 0
    for match in _WORD.finditer(text):
        word = _POSSESSIVE.sub("", match.group()).strip("'’-")  # noqa: RUF001
        folded = word.casefold()
        spaced = match.start() - last_end == 1 and text[last_end] == " "  # most gaps: nothing to look for
        broken = not spaced and _BREAK.search(text, last_end, match.start())
        if current and (broken or folded in stop or len(word) < 3):
            runs.append(current)
            current = []
        if folded not in stop and len(word) >= 3:
            current.append((word, match.start()))
        last_end = match.end()
    if current:
        runs.append(current)
    return runs
