"""Articles for tests: made up from a number, built from a raw feed item, or read from the labelled set."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from pipeline.models import Article, DateSource, RawItem, Section
from pipeline.normalise import normalise_item
from tests.support.paths import ROOT

LABELLED_CASES = ROOT / "tests" / "eval" / "cases.toml"  # the labelled set (see tests/eval/README.md)
DAY = date(2024, 1, 7)


def make_article(n: int, *, title: str = "", url: str | None = None, source: str = "src", story: str = "") -> Article:
    """Article number `n` of DAY, already normalised and enriched enough for the digest."""
    title = title or f"Story number {n}"
    return Article(
        id=f"{n:032x}",
        source=source,
        source_name=source.upper(),
        url=url,
        title=title,
        title_derived=False,
        lead=f"{title}. More detail follows.",
        sections=[Section(paragraphs=[f"{title}. More detail follows."])],
        text=f"{title}. More detail follows.",
        published_at=datetime(2024, 1, 7, n % 24, tzinfo=UTC),
        published_date=DAY,
        date_source=DateSource.FEED,
        fetched_at=datetime(2024, 1, 8, tzinfo=UTC),
        language="en",
        summary=f"{title}. More detail follows.",
        content_hash=f"{n:064x}",
        raw_key=f"raw/src/{n}",
        story_id=story or f"{n:032x}",
    )


def raw_item(
    title: str | None,
    paragraphs: Sequence[str],
    *,
    published_at: datetime,
    fetched_at: datetime | None = None,
    source: str = "test",
    raw_key: str = "raw/test",
    url: str | None = None,
) -> RawItem:
    """The first item of a feed payload, dated by the feed; one section of `paragraphs` (none without)."""
    return RawItem(
        source_id=source,
        raw_key=raw_key,
        index=0,
        fetched_at=fetched_at or published_at,
        url=url,
        title=title,
        sections=[Section(paragraphs=list(paragraphs))] if paragraphs else [],
        published_at=published_at,
        date_source=DateSource.FEED,
    )


def load_cases() -> list[dict[str, Any]]:
    """The labelled articles of tests/eval/cases.toml, as tables."""
    return list(tomllib.loads(LABELLED_CASES.read_text())["article"])


def to_article(case: dict[str, Any]) -> Article:
    """One labelled case, normalised as if a feed had given it at noon on its date."""
    published = datetime.combine(datetime.fromisoformat(case["date"]).date(), time(12), tzinfo=UTC)
    paragraphs = [p.strip() for p in case["text"].strip().split("\n\n")]
    item = raw_item(
        case["title"],
        paragraphs,
        published_at=published,
        source=case["source"],
        raw_key=f"eval/{case['id']}",
        url=f"https://{case['source']}.example/{case['id']}",
    )
    return normalise_item(item)


def plain_article(name: str, title: str, text: str, published: datetime) -> Article:
    """An article holding `text` exactly as given (offsets into it stay valid), as an outside corpus has it."""
    paragraphs = text.split("\n\n")
    return Article(
        id=name,
        source="corpus",
        source_name="corpus",
        title=title or paragraphs[0][:100],
        title_derived=False,
        lead=paragraphs[1] if len(paragraphs) > 1 else paragraphs[0],
        sections=[Section(paragraphs=paragraphs)],
        text=text,
        published_at=published,
        published_date=published.date(),
        date_source=DateSource.FEED,
        fetched_at=published,
        content_hash=f"{abs(hash(text)):064x}"[-64:],
        raw_key=f"corpus/{name}",
    )
