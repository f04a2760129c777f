from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from pipeline.models import Enclosure, RawItem, Section
from pipeline.normalise import normalise_item


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/episode.mp3", "ftp://cdn.example/e.mp3", "https:///e.mp3"])
def test_an_enclosure_is_an_absolute_http_url(url: str) -> None:
    with pytest.raises(ValidationError):
        Enclosure(url=url)


def test_enclosures_reach_the_article_and_old_articles_still_load() -> None:
    episode = Enclosure(url="https://cdn.example/e.mp3", type="audio/mpeg", length=1234)
    raw = RawItem(
        source_id="pod",
        raw_key="raw/pod/1",
        index=0,
        fetched_at=datetime(2024, 1, 7, tzinfo=UTC),
        title="Episode",
        sections=[Section(paragraphs=["Notes."])],
        published_at=datetime(2024, 1, 7, tzinfo=UTC),
        enclosures=[episode],
    )
    article = normalise_item(raw)
    assert article.enclosures == [episode]
    stored = article.model_dump(mode="json")
    del stored["enclosures"]  # as written before enclosures were kept
    assert type(article).model_validate(stored).enclosures == []
