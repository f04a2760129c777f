"""Group a day's articles into stories and rank them. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

from pipeline.models import Article, Digest, DigestCounts, DigestStory, StoryMention

__all__ = ["build_digest"]


def _story(articles: list[Article]) -> DigestStory:
    # The earliest report leads; ties broken by id so the choice never depends on listing order.
    lead, *others = sorted(articles, key=lambda a: (a.published_at, a.id))
    return DigestStory(
        story_id=lead.story_id or lead.id,
        headline=lead.title,
        summary=lead.summary or lead.lead,
        url=lead.url,
        source=lead.source_name,
        published_at=lead.published_at,
        language=lead.language,
        also_reported_by=[StoryMention(source=a.source_name, title=a.title, url=a.url) for a in others],
    )


def build_digest(day: date, articles: Iterable[Article], timezone: str = "UTC") -> Digest:
    """Build the digest of `day`: one entry per story, most widely reported and most recent first."""
    by_story: dict[str, list[Article]] = defaultdict(list)
    chosen = list(articles)
    for article in chosen:
        by_story[article.story_id or article.id].append(article)
    stories = [_story(group) for group in by_story.values()]
    source_count = {s.story_id: len({a.source for a in by_story[s.story_id]}) for s in stories}
    stories.sort(key=lambda s: (-source_count[s.story_id], -s.published_at.timestamp(), s.story_id))
    return Digest(
        date=day,
        timezone=timezone,
        title=f"News digest for {day:%A %-d %B %Y}",
        counts=DigestCounts(
            articles=len(chosen),
            sources=len({a.source for a in chosen}),
            stories=len(stories),
            languages=len({a.language for a in chosen if a.language}),
        ),
        stories=stories,
        updated_at=max((a.published_at for a in chosen), default=_midnight(day)),
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
