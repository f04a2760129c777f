"""Group a day's articles into stories, rank them and put them in sections. Pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache

from babel import Locale

from pipeline.models import (
    Article,
    Digest,
    DigestCounts,
    DigestQuote,
    DigestSection,
    DigestStory,
    EntityType,
    Story,
    StoryMention,
)

__all__ = ["TOP_STORIES", "build_digest", "group_stories"]

TOP_STORIES = 5
WORLD = "world"  # the section of stories from countries with one story each
KEY_ENTITIES = 3  # per type and story
_QUOTE_WORDS = (6, 60)  # a notable quote is a sentence, not a phrase or a speech


def group_stories(articles: Iterable[Article]) -> list[tuple[Story, list[Article]]]:
    """Articles grouped by `story_id`; the representative is the story's original (earliest non-copy)."""
    by_story: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_story[article.story_id or article.id].append(article)
    grouped = []
    for story_id, members in sorted(by_story.items()):
        members.sort(key=lambda a: (a.duplicate_of is not None, a.published_at, a.id))
        story = Story(
            story_id=story_id,
            representative=members[0].id,
            articles=[a.id for a in members],
            sources=sorted({a.source for a in members}),
        )
        grouped.append((story, members))
    return grouped


def build_digest(day: date, articles: Iterable[Article], timezone: str = "UTC") -> Digest:
    """The digest of `day`: one entry per story, ranked by independent sources, recency and salience."""
    chosen = list(articles)
    start = _midnight(day)
    stories = [_story(members, start) for _, members in group_stories(chosen)]
    stories.sort(key=lambda s: (-s.score, s.story_id))
    top, rest = stories[:TOP_STORIES], stories[TOP_STORIES:]
    sections = [DigestSection(title="Top stories", story_ids=[s.story_id for s in top])] if top else []
    section_of = dict.fromkeys((s.story_id for s in top), "Top stories")
    by_country: dict[str | None, list[DigestStory]] = defaultdict(list)
    for story in rest:
        by_country[_main_country(story, chosen)].append(story)
    # A country with one story gets no section of its own: a briefing of one-line sections reads badly.
    for lone in [c for c, members in by_country.items() if c and len(members) == 1]:
        by_country[WORLD].extend(by_country.pop(lone))
    ordered = sorted(by_country.items(), key=lambda kv: (_section_order(kv[0]), -kv[1][0].score, kv[0] or ""))
    for key, members in ordered:
        title = {WORLD: "Around the world", None: "More news"}.get(key) or _country_name(key or "")
        members.sort(key=lambda s: (-s.score, s.story_id))
        country = None if key == WORLD else key
        sections.append(DigestSection(title=title, country=country, story_ids=[s.story_id for s in members]))
        section_of |= dict.fromkeys((s.story_id for s in members), title)
    stories = [s.model_copy(update={"section": section_of[s.story_id]}) for s in stories]
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
        sections=sections,
        updated_at=max((a.published_at for a in chosen), default=start),
    )


def _story(members: list[Article], day_start: datetime) -> DigestStory:
    lead, *others = members
    independent = len({a.source for a in members if a.duplicate_of is None}) or 1
    sources = len({a.source for a in members})
    # Recency: 0 at the start of the day, 1 at its end; salience: how many named things the story is about.
    recency = min(1.0, max(0.0, (max(a.published_at for a in members) - day_start) / timedelta(days=1)))
    named = {(e.type, e.name) for a in members for e in a.entities}
    salience = min(1.0, len(named) / 10)
    quote = _notable_quote(members)
    return DigestStory(
        story_id=lead.story_id or lead.id,
        headline=lead.title,
        summary=lead.summary or lead.lead,
        url=lead.url,
        source=lead.source_name,
        published_at=lead.published_at,
        language=lead.language,
        section="",
        score=round(3 * independent + sources + recency + salience + (0.5 if quote else 0), 4),
        independent_sources=independent,
        people=_key_entities(members, EntityType.PERSON),
        organisations=_key_entities(members, EntityType.ORGANISATION),
        places=_key_entities(members, EntityType.PLACE),
        quote=quote,
        also_reported_by=[StoryMention(source=a.source_name, title=a.title, url=a.url) for a in others],
    )


def _key_entities(members: list[Article], kind: EntityType) -> list[str]:
    counts: Counter[str] = Counter()
    for article in members:
        for entity in article.entities:
            if entity.type is kind:
                counts[entity.name] += entity.count
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:KEY_ENTITIES]]


def _notable_quote(members: list[Article]) -> DigestQuote | None:
    """The representative's longest direct quote of sentence length with a known speaker, else another's."""
    for article in members:
        quotes = [
            q
            for q in article.quotes
            if q.direct and q.speaker and _QUOTE_WORDS[0] <= len(q.text.split()) <= _QUOTE_WORDS[1]
        ]
        if quotes:
            best = max(quotes, key=lambda q: (len(q.text), -q.start))
            assert best.speaker is not None
            return DigestQuote(text=best.text, speaker=best.speaker)
    return None


def _main_country(story: DigestStory, articles: list[Article]) -> str | None:
    """The country the story's places belong to most often; None when it names no place."""
    counts: Counter[str] = Counter()
    for article in articles:
        if (article.story_id or article.id) == story.story_id:
            for entity in article.entities:
                if entity.type is EntityType.PLACE and entity.country:
                    counts[entity.country] += entity.count
    return min(counts, key=lambda c: (-counts[c], c)) if counts else None


def _section_order(country: str | None) -> int:
    return {WORLD: 1, None: 2}.get(country, 0)


@cache
def _country_name(code: str) -> str:
    return Locale.parse("en").territories.get(code) or code


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
