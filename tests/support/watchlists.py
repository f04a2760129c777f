"""Reports of one story for watchlist tests: articles of several sources, copies among them, with entities."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.models import Article, Entity, EntityType
from tests.support.articles import make_article


def story_reports(
    story: str,
    title: str,
    sources: Sequence[str],
    first: int,
    *,
    copies: Sequence[str] = (),
    people: Sequence[str] = (),
    places: Sequence[tuple[str, str]] = (),
) -> list[Article]:
    """One report of `story` per source (numbered from `first`), then one copy of the first report per `copies`
    source; every report names `people` and `places` (name, country code)."""
    entities = [Entity(name=p, type=EntityType.PERSON, count=2, mentions=[]) for p in people]
    entities += [Entity(name=n, type=EntityType.PLACE, country=c, count=1, mentions=[]) for n, c in places]
    reports = [
        make_article(first + i, title=title, source=source, story=story, url=f"https://{source}.example/{first + i}")
        for i, source in enumerate(sources)
    ]
    reports += [
        make_article(first + len(sources) + i, title=title, source=source, story=story).model_copy(
            update={"duplicate_of": reports[0].id}
        )
        for i, source in enumerate(copies)
    ]
    return [r.model_copy(update={"entities": entities}) for r in reports]
