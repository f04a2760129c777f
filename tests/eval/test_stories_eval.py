"""Event stories against the labelled story set: the thresholds the project promises."""

from __future__ import annotations

import pytest

from tests.eval.story_scoring import StoryScores, evaluate, main_languages
from tests.support.stories import STORY_SET, load_story_set

pytestmark = pytest.mark.skipif(not STORY_SET.exists(), reason=f"no labelled story set at {STORY_SET}")


@pytest.fixture(scope="module")
def scores() -> StoryScores:
    return evaluate()


def test_the_set_is_big_enough() -> None:
    _, cases = load_story_set()
    events = {c["event"] for c in cases if c["role"] != "distractor"}
    assert len(events) >= 15
    assert sum(c["role"] == "distractor" for c in cases) >= 15
    main = main_languages(cases)
    assert sum(c["language"] != main[c["event"]] for c in cases if c["role"] != "distractor") >= 4


def test_monolingual_stories(scores: StoryScores) -> None:
    assert scores.bcubed.f1 >= 0.95, scores.bcubed


def test_no_distractor_is_merged(scores: StoryScores) -> None:
    assert scores.distractors_merged == []


def test_cross_lingual_recall(scores: StoryScores) -> None:
    assert scores.cross_lingual_recall >= 0.8


def test_copies_are_marked(scores: StoryScores) -> None:
    assert scores.copies_marked == 1.0


def test_arrival_order_does_not_change_the_stories_materially(scores: StoryScores) -> None:
    assert min(scores.shuffled_bcubed_f1) >= scores.bcubed.f1 - 0.03, scores.shuffled_bcubed_f1
