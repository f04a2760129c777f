"""Golden files: the digest of a fixed set of enriched articles, as Markdown, byte for byte.

The articles are the labelled set's, enriched and placed in stories once and kept as JSON Lines, so this
test depends on the digest code alone. `UPDATE_GOLDEN=1 pytest tests/unit/test_digest_golden.py` rewrites
both files (after a deliberate change to enrichment or to the digest).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline.digest import build_digest, render_json, render_markdown
from pipeline.models import Article, Digest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "digest"
ARTICLES = FIXTURES / "articles.jsonl"
GOLDEN_MD = FIXTURES / "digest.md"
DAY = date(2026, 3, 2)


def _enriched_articles() -> list[Article]:
    """The labelled set, all published on DAY, enriched and with stories, as the pipeline would store them."""
    from pipeline.enrich import Enricher
    from pipeline.enrich.dedup import CopyIndex
    from pipeline.enrich.events import EventIndex, place_articles
    from pipeline.settings import Settings
    from tests.support.articles import load_cases, to_article

    settings = Settings()
    engine = Enricher.from_settings(settings)
    articles = []
    for case in load_cases():
        article = to_article(case | {"date": DAY.isoformat()})
        hour = datetime.fromisoformat(case["date"]).day  # keep the cases' order of publication within the day
        articles.append(article.model_copy(update={"published_at": article.published_at.replace(hour=hour)}))
    enriched = engine.enrich(articles)
    where = place_articles(CopyIndex(), EventIndex(), enriched)
    return [
        a.model_copy(update={"story_id": where[a.id].story_id, "duplicate_of": where[a.id].duplicate_of})
        for a in sorted(enriched, key=lambda a: (a.published_at, a.id))
    ]


@pytest.fixture(scope="module")
def digest() -> Digest:
    if os.environ.get("UPDATE_GOLDEN"):
        ARTICLES.write_text("".join(a.model_dump_json() + "\n" for a in _enriched_articles()))
    articles = [Article.model_validate_json(line) for line in ARTICLES.read_text().splitlines()]
    built = build_digest(DAY, articles)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_MD.write_text(render_markdown(built))
    return built


def test_markdown_matches_the_golden_file(digest: Digest) -> None:
    assert render_markdown(digest) == GOLDEN_MD.read_text()


def test_stories_sections_and_quotes(digest: Digest) -> None:
    assert digest.counts.stories == digest.counts.articles - 6  # six copies or rewrites joined their stories
    top = digest.sections[0]
    assert top.title == "Top stories" and len(top.story_ids) == 5
    first = digest.stories[0]
    assert first.independent_sources >= 2 and len(first.also_reported_by) >= 1
    titles = [s.title for s in digest.sections]
    assert titles[-2:] == ["Around the world", "More news"] and len(titles) == len(set(titles))
    assert all(s.section for s in digest.stories)
    assert {sid for section in digest.sections for sid in section.story_ids} == {s.story_id for s in digest.stories}
    quoted = [s for s in digest.stories if s.quote]
    assert quoted and all(s.quote and s.quote.speaker for s in quoted)
    assert json_round_trip(digest) == digest


def json_round_trip(digest: Digest) -> Digest:
    return Digest.model_validate_json(render_json(digest))
