"""Article extraction on the article-extraction benchmark: its metric, and the threshold the project promises."""

from __future__ import annotations

import pytest

from tests.eval.extraction import BENCHMARK, Result, evaluate, score, score_page, worst


def test_the_metric_counts_word_four_grams_per_page() -> None:
    exact = score_page("a", "u", "one two three four five", "one two three four five")
    assert (exact.tp, exact.fp, exact.fn) == (1.0, 0.0, 0.0)
    # 2 true 4-grams, 3 predicted, 1 shared: TP 1, FP 2, FN 1, each divided by their sum (4)
    half = score_page("b", "u", "one two three four five", "one two three four nine ten")
    assert (half.tp, half.fp, half.fn) == (0.25, 0.5, 0.25)
    empty = score_page("c", "u", "one two three four", "")
    result = score([exact, half, empty])
    assert result.precision == pytest.approx((1 + 1 / 3) / 2)  # the empty prediction is left out
    assert result.recall == pytest.approx((1 + 0.5 + 0) / 3)
    assert [p.key for p in worst(result, 1)] == ["c"]


@pytest.fixture(scope="module")
def result() -> Result:
    if not BENCHMARK.exists():
        pytest.skip(f"{BENCHMARK} is absent: the article-extraction benchmark lives beside the checkout")
    return evaluate()


def test_extraction_f1_on_the_benchmark(result: Result) -> None:
    assert len(result.pages) == 181
    assert result.f1 >= 0.97
    assert result.precision >= 0.96 and result.recall >= 0.96
