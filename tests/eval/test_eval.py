"""The enrichment stage against the labelled set: the thresholds the project promises."""

from __future__ import annotations

import pytest

from tests.eval.scoring import Score, evaluate, speaker_accuracy
from tests.support.articles import load_cases


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    return evaluate()


def test_the_set_is_big_enough_and_multilingual() -> None:
    cases = load_cases()
    assert len(cases) >= 30
    assert len({c["language"] for c in cases} - {"en"}) >= 2
    assert len({c["group"] for c in cases if "group" in c}) >= 3


def test_entities(scores: dict[str, Score]) -> None:
    assert scores["entities"].f1 >= 0.85


def test_quote_speakers(scores: dict[str, Score]) -> None:
    assert speaker_accuracy(scores["speakers"]) >= 0.9


def test_language(scores: dict[str, Score]) -> None:
    assert scores["language"].recall >= 0.97


def test_duplicate_groups(scores: dict[str, Score]) -> None:
    assert scores["story pairs"].precision >= 0.95
    assert scores["story pairs"].recall >= 0.95


def test_entities_in_every_language_with_a_model(scores: dict[str, Score]) -> None:
    assert all(scores[f"entities ({lang})"].f1 >= 0.6 for lang in ("en", "fr"))
