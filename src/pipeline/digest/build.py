"""Group a day's articles into stories, rank them and put them in sections. Pure."""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import nh3

from pipeline.digest.render import country_name
from pipeline.enrich.events import NAME, NUMBER, readable_features
from pipeline.models import (
    Article,
    Digest,
    DigestCounts,
    DigestQuote,
    DigestSection,
    DigestStory,
    EntityType,
    Source,
    Story,
    StoryCoverage,
    StoryDay,
    StoryMention,
    StoryReason,
)
from pipeline.stories import StoryRecord

__all__ = ["TOP_STORIES", "build_digest", "group_stories", "plain_text"]

TOP_STORIES = 5
WORLD = "world"  # the section of stories from countries with one story each
KEY_ENTITIES = 3  # per type and story
REASONS = 8  # shared features shown per story
REASON_ARTICLES = 50  # reports read for them: enough to know what a huge story shares
_QUOTE_WORDS = (6, 60)  # a notable quote is a sentence, not a phrase or a speech
_KINDS: dict[str, Literal["name", "number", "term"]] = {NAME: "name", NUMBER: "number"}


def plain_text(text: str) -> str:
    """`text` without markup: tags removed (script and style with their content), entities decoded."""
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
    return " ".join(html.unescape(nh3.clean(text, tags=set())).split())


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


def build_digest(
    day: date,
    articles: Iterable[Article],
    timezone: str = "UTC",
    sources: Mapping[str, Source] | None = None,
    history: Sequence[StoryRecord] = (),
) -> Digest:
    """The digest of `day`: one entry per story, ranked by independent sources, recency and salience.

    `sources` gives the sources' countries and kinds; `history` the stories' articles of other days.
    """
    chosen = list(articles)
    start = _midnight(day)
    earlier: dict[str, list[StoryRecord]] = defaultdict(list)
    for record in history:
        earlier[record.story_id].append(record)
    stories = [
        _story(members, start, sources or {}, earlier.get(story.story_id, []))
        for story, members in group_stories(chosen)
    ]
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
        title = {WORLD: "Around the world", None: "More news"}.get(key) or country_name(key or "")
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


def _story(
    members: list[Article], day_start: datetime, sources: Mapping[str, Source], history: list[StoryRecord]
) -> DigestStory:
    lead = members[0]
    originals = [a for a in members if a.duplicate_of is None] or members
    independent = len({a.source for a in originals})
    distinct = len({a.source for a in members})
    # Recency: 0 at the start of the day, 1 at its end; salience: how many named things the story is about.
    recency = min(1.0, max(0.0, (max(a.published_at for a in members) - day_start) / timedelta(days=1)))
    named = {(e.type, e.name) for a in members for e in a.entities}
    salience = min(1.0, len(named) / 10)
    quote = _notable_quote(members)
    # Coverage counts grow with the story; its logarithm keeps a 1,000-copy story from burying the rest.
    score = 3 * _damped(independent) + _damped(distinct) + recency + salience + (0.5 if quote else 0)
    return DigestStory(
        story_id=lead.story_id or lead.id,
        headline=plain_text(lead.title) or lead.source_name,
        summary=plain_text(lead.summary or lead.lead),
        url=lead.url,
        source=lead.source_name,
        published_at=lead.published_at,
        language=lead.language,
        section="",
        score=round(score, 4),
        independent_sources=independent,
        people=_key_entities(members, EntityType.PERSON),
        organisations=_key_entities(members, EntityType.ORGANISATION),
        places=_key_entities(members, EntityType.PLACE),
        tags=sorted({t for a in members for t in a.tags}),
        quote=quote,
        also_reported_by=_also_reported_by(members),
        coverage=_coverage(members, sources),
        why=_reasons(originals),
        timeline=_timeline(members, history),
    )


def _damped(count: int) -> float:
    return 1 + math.log2(count) if count else 0.0


def _also_reported_by(members: list[Article]) -> list[StoryMention]:
    """Each source but the lead's once, with its first article: originals first, then by time."""
    first: dict[str, Article] = {}
    for article in members:  # originals first, then by time (group_stories' order)
        first.setdefault(article.source, article)
    return [
        StoryMention(source=a.source_name, title=plain_text(a.title), url=a.url, copied=a.duplicate_of is not None)
        for a in list(first.values())[1:]
    ]


def _coverage(members: list[Article], sources: Mapping[str, Source]) -> StoryCoverage:
    known = [sources[s] for s in sorted({a.source for a in members}) if s in sources]
    outlets = Counter(str(s.outlet) for s in known if s.outlet)
    copies = sum(a.duplicate_of is not None for a in members)
    return StoryCoverage(
        articles=len(members),
        sources=len({a.source for a in members}),
        originals=len(members) - copies,
        copies=copies,
        languages=sorted({a.language for a in members if a.language}),
        countries=sorted({s.country for s in known if s.country}),
        outlets=dict(sorted(outlets.items())),
    )


def _reasons(originals: list[Article]) -> list[StoryReason]:
    """The names, numbers and terms most of the story's independent reports share."""
    if len(originals) < 2:
        return []
    seen: Counter[int] = Counter()
    forms: dict[int, tuple[str, str]] = {}
    for article in originals[:REASON_ARTICLES]:
        readable = readable_features(article)
        seen.update(readable.keys())
        for key, form in readable.items():
            forms.setdefault(key, form)
    shared = [(key, n) for key, n in seen.items() if n >= 2]
    # Names and numbers say more than words; among equals, the most shared first.
    order = {NAME: 0, NUMBER: 1}
    shared.sort(key=lambda kn: (-kn[1], order.get(forms[kn[0]][0], 2), forms[kn[0]][1].casefold()))
    reasons, texts = [], set()
    for key, n in shared:
        kind, text = forms[key]
        if text.casefold() in texts:
            continue  # already said, or a word of a name already shown
        texts.add(text.casefold())
        texts.update(word.casefold() for word in text.split())
        reasons.append(StoryReason(kind=_KINDS.get(kind, "term"), text=text, articles=n))
        if len(reasons) == REASONS:
            break
    return reasons


def _timeline(members: list[Article], history: list[StoryRecord]) -> list[StoryDay]:
    """Articles and sources per day, across the days the story index knows and the digest's own."""
    here = {a.id for a in members}
    records = [(a.published_at, a.source) for a in members]
    records += [(r.published_at, r.source) for r in history if r.article_id not in here]
    by_day: dict[date, list[tuple[datetime, str]]] = defaultdict(list)
    for when, source in records:
        by_day[when.astimezone(UTC).date()].append((when, source))
    return [
        StoryDay(day=d, articles=len(rows), sources=len({s for _, s in rows}), first_at=min(w for w, _ in rows))
        for d, rows in sorted(by_day.items())
    ]


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


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
