"""What the news_digest DAG's tasks call: the days to rebuild, the day's lake partition, its digest, and the
editor's review of its e-mail."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from pipeline.digest import build_digest, publish_digest, render_html
from pipeline.digest.build import TOP_STORIES
from pipeline.digest.days import day_articles, digest_dates, load_articles
from pipeline.digest.publish import load_digest
from pipeline.digest.render import md_escape, md_url
from pipeline.lake import compact_day
from pipeline.models import Digest
from pipeline.review import APPROVE, DROP, REJECT
from pipeline.settings import Settings
from pipeline.storage.keys import digest_key
from pipeline.storage.store import ObjectStore

__all__ = [
    "compact_lake",
    "digest_dates",
    "digest_email",
    "publish_daily_digest",
    "review_choices",
    "review_text",
    "without_stories",
]

_LABEL_CHARS = 150  # a headline is cut here: an option is a line of a list, not a paragraph


def publish_daily_digest(store: ObjectStore, settings: Settings, day: date) -> dict[str, str]:
    """Build and publish the digest of `day` in the digest time zone; return the keys written."""
    from pipeline.sources.registry import RegistryError, load_registry
    from pipeline.stories import load_story_records

    try:
        sources = {s.id: s for s in load_registry(settings.sources_file).sources}
    except RegistryError:  # the digest does without the sources' countries and kinds; ingest reports the file
        sources = {}
    window = [day + timedelta(days=n) for n in range(-settings.story_window_days, 2)]
    articles = day_articles(store, day, settings.digest_timezone)
    digest = build_digest(day, articles, settings.digest_timezone, sources, load_story_records(store, window))
    return publish_digest(store, digest, settings.digest_feed_entries)


def compact_lake(store: ObjectStore, day: date) -> str | None:
    """Rewrite the day's Parquet file from its articles; None when the day has none."""
    return compact_day(store, day, load_articles(store, day))


def review_choices(digest: Digest) -> dict[str, str]:
    """The options an editor can drop, one per top story: label -> story id, best story first."""
    choices: dict[str, str] = {}
    for story in digest.stories[:TOP_STORIES]:
        headline = story.headline if len(story.headline) <= _LABEL_CHARS else story.headline[:_LABEL_CHARS] + "…"
        label = f"{DROP}{headline} ({story.source})"
        if label in choices:  # two top stories told alike by one source: the id tells them apart
            label = f"{label} [{story.story_id}]"
        choices[label] = story.story_id
    return choices


def review_text(digest: Digest, choices: Mapping[str, str]) -> str:
    """The Markdown an editor reads before answering: what the e-mail holds and what each answer does."""
    by_id = {s.story_id: s for s in digest.stories}
    lines = [
        f"**{md_escape(digest.title)}**: {digest.counts.stories} stories from {digest.counts.sources} sources. "
        "The web digest is already published; this decides the e-mail only.",
        "",
        "Top stories:",
        "",
    ]
    for story_id in choices.values():
        story = by_id[story_id]
        headline = md_escape(story.headline)
        link = md_url(story.url)
        lines.append(f"1. [{headline}]({link}) ({md_escape(story.source)})" if link else f"1. {headline}")
    lines += [
        "",
        f"*{APPROVE}* sends it; choosing *{DROP}…* options sends it without those stories; *{REJECT}* sends "
        "nothing (say why in the note). Reject wins over anything chosen with it.",
    ]
    return "\n".join(lines)


def digest_email(store: ObjectStore, day: date, dropped: Collection[str] = ()) -> tuple[str, str]:
    """Subject and HTML of the day's e-mail: the published digest, or it rendered again without `dropped` stories."""
    digest = load_digest(store, day)
    html = store.get_bytes_or_none(digest_key(day, "html"))
    if digest is None or html is None:
        raise FileNotFoundError(f"no published digest for {day}")
    if not dropped:
        return digest.title, html.decode()
    return digest.title, render_html(without_stories(digest, dropped))


def without_stories(digest: Digest, dropped: Collection[str]) -> Digest:
    """`digest` without the `dropped` stories (and the sections they leave empty)."""
    sections = [
        s.model_copy(update={"story_ids": [i for i in s.story_ids if i not in dropped]}) for s in digest.sections
    ]
    stories = [s for s in digest.stories if s.story_id not in dropped]
    return digest.model_copy(
        update={
            "stories": stories,
            "sections": [s for s in sections if s.story_ids],
            "counts": digest.counts.model_copy(update={"stories": len(stories)}),
        }
    )
