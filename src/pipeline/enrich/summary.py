"""An extractive summary: TextRank over the first sentences, biased towards the lead."""

from __future__ import annotations

import math
import re

import numpy as np

from pipeline.text import shorten, split_sentences

__all__ = ["MAX_SENTENCES", "summarise"]

MAX_SUMMARY_CHARS = 480
# TextRank compares every pair of sentences; news puts what matters first, so later sentences are not ranked.
MAX_SENTENCES = 30
_WORD = re.compile(r"\w+")


def summarise(lead: str, text: str, sentences: int = 3, iterations: int = 30) -> str:
    """2-3 sentences chosen by TextRank (lead-weighted PageRank over word overlap), in their original order."""
    candidates = split_sentences(text)[:MAX_SENTENCES] or split_sentences(lead)
    if len(candidates) <= sentences:
        return _fit(candidates) if candidates else shorten(lead, MAX_SUMMARY_CHARS)
    words = [{w.casefold() for w in _WORD.findall(s) if len(w) > 3} for s in candidates]
    n = len(candidates)
    weights = np.array([[_similarity(words[i], words[j]) if i != j else 0.0 for j in range(n)] for i in range(n)])
    totals = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    # Personalised PageRank: random jumps land on early sentences, which is where news puts the point.
    prior = 1.0 / np.arange(1, n + 1)
    prior /= prior.sum()
    rank = prior.copy()
    for _ in range(iterations):
        rank = 0.15 * prior + 0.85 * (transition.T @ rank)
    best = sorted(range(n), key=lambda i: (-float(rank[i]), i))
    # The first sentence always opens the summary: it is the lead's own summary of the news.
    chosen = sorted({0, *best[: sentences - 1]} if 0 not in best[:sentences] else set(best[:sentences]))
    return _fit([candidates[i] for i in chosen])


def _similarity(a: set[str], b: set[str]) -> float:
    if len(a) < 2 or len(b) < 2:
        return 0.0
    return len(a & b) / (math.log(len(a)) + math.log(len(b)))


def _fit(chosen: list[str]) -> str:
    """Drop trailing sentences until the summary fits; shorten a single long sentence."""
    while len(chosen) > 1 and len(" ".join(chosen)) > MAX_SUMMARY_CHARS:
        chosen = chosen[:-1]
    return shorten(" ".join(chosen), MAX_SUMMARY_CHARS)
