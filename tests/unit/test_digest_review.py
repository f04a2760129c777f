"""The editor's review of the e-mailed digest: the options offered, what an answer means, the e-mail it leaves."""

from __future__ import annotations

import pytest

from pipeline.digest import build_digest, render_html
from pipeline.digest.build import TOP_STORIES
from pipeline.models import Digest
from pipeline.review import APPROVE, DROP, REJECT, read_review
from pipeline.stages.digest import review_choices, review_text, without_stories
from tests.support.articles import DAY, make_article


def _digest(stories: int = 8) -> Digest:
    articles = [make_article(n, title=f"Headline {n}", story=f"s-{n}", source=f"src{n}") for n in range(stories)]
    return build_digest(DAY, articles)


def test_each_top_story_is_one_option_best_first() -> None:
    digest = _digest()
    choices = review_choices(digest)
    assert list(choices.values()) == [s.story_id for s in digest.stories[:TOP_STORIES]]
    first = digest.stories[0]
    assert next(iter(choices)) == f"{DROP}{first.headline} ({first.source})"


def test_options_stay_distinct_and_short() -> None:
    articles = [make_article(n, title="Same words " * 40, story=f"s-{n}", source="one") for n in range(3)]
    choices = review_choices(build_digest(DAY, articles))
    assert len(choices) == 3 and all(len(label) < 250 for label in choices)


def test_reject_wins_and_sends_nothing() -> None:
    choices = review_choices(_digest())
    review = read_review([next(iter(choices)), REJECT], choices, note="off topic")
    assert not review.approved and review.dropped == [] and review.note == "off topic"


def test_approve_alone_or_with_drops() -> None:
    digest = _digest()
    choices = review_choices(digest)
    assert read_review([APPROVE], choices).dropped == []
    second = list(choices)[1]
    review = read_review([APPROVE, second], choices)
    assert review.approved and review.dropped == [digest.stories[1].story_id]
    assert read_review([second], choices) == review  # dropping a story is an approval of the rest


def test_an_option_that_was_never_offered_is_refused() -> None:
    with pytest.raises(ValueError, match="not offered"):
        read_review([f"{DROP}something else"], review_choices(_digest()))


def test_the_email_without_a_dropped_story_keeps_every_other() -> None:
    digest = _digest()
    dropped = digest.stories[1]
    html = render_html(without_stories(digest, {dropped.story_id}))
    assert dropped.headline not in html
    assert all(s.headline in html for s in digest.stories if s is not dropped)
    emptied = without_stories(digest, {s.story_id for s in digest.stories[:TOP_STORIES]})
    assert "Top stories" not in [s.title for s in emptied.sections]
    assert emptied.counts.stories == len(digest.stories) - TOP_STORIES


def test_the_review_text_lists_the_options_stories() -> None:
    digest = _digest()
    text = review_text(digest, review_choices(digest))
    assert all(s.headline in text for s in digest.stories[:TOP_STORIES])
    assert digest.stories[TOP_STORIES].headline not in text
