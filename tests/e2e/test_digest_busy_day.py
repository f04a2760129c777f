"""A busy day's digest in headless Chromium: readable on a phone, in dark mode, whatever the size of a story."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.digest import build_digest, render_html
from pipeline.models import Article, Entity, EntityType, Source
from tests.support.articles import make_article

pytestmark = pytest.mark.e2e
DAY = date(2024, 1, 7)
COPIES = 1000
PHONE = {"width": 390, "height": 844}


def _busy_day() -> tuple[list[Article], dict[str, Source]]:
    """A thousand copies of one wire story, forty stories of a few sources, and a hundred single reports."""
    place = Entity(name="Valparaíso", type=EntityType.PLACE, country="CL", count=2, mentions=[])
    wire = make_article(1, title="Quake <b>hits</b> Valparaíso &amp; coast", url="https://wire.example/1")
    wire = wire.model_copy(update={"entities": [place]})
    articles = [wire]
    for n in range(COPIES):
        copy = make_article(10_000 + n, title=wire.title, url=f"https://copy{n}.example/", source=f"copy{n}")
        articles.append(copy.model_copy(update={"story_id": wire.id, "duplicate_of": wire.id}))
    for story in range(40):
        lead = make_article(2_000 + story * 10, title=f"Story {story} with a rather long headline that wraps")
        for n in range(1 + story % 5):
            member = make_article(2_000 + story * 10 + n, source=f"outlet{n}", story=lead.id)
            articles.append(member.model_copy(update={"title": f"Report {n} on story {story}"}))
    articles += [make_article(5_000 + n, source=f"local{n % 7}") for n in range(100)]
    sources = {
        f"copy{n}": Source(
            id=f"copy{n}", kind="feed", url=f"https://copy{n}.example/feed", country="US", outlet="newspaper"
        )
        for n in range(COPIES)
    }
    return articles, sources


def _shot(browser: Any, html: str, path: Path, **context: Any) -> Any:
    page = browser.new_page(**context)
    page.set_content(html)
    page.screenshot(full_page=True, path=str(path))
    return page


def test_busy_day_reads_on_a_phone_in_dark_mode(browser: Any, tmp_path: Path) -> None:
    articles, sources = _busy_day()
    digest = build_digest(DAY, articles, sources=sources)
    html = render_html(digest)
    assert len(html) < 400_000, "a thousand copies add a line, not a thousand links"

    page = _shot(browser, html, tmp_path / "busy-phone-dark.png", viewport=PHONE, color_scheme="dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in background.removeprefix("rgb(").removesuffix(")").split(","))
    assert red + green + blue < 3 * 60, f"dark mode draws a dark page, not {background}"

    top = page.locator("article").first
    assert "Quake hits Valparaíso & coast" in top.locator("h3").inner_text(), "the title as text, markup removed"
    also = top.locator(".also")
    assert also.locator("a").count() == 5 and f"and {COPIES - 5} more" in also.inner_text()
    assert f"{COPIES + 1} sources" in top.locator(".coverage").inner_text()
    assert f"{COPIES} copies" in top.locator(".coverage").inner_text()
    assert page.locator("article").count() == len(digest.stories)
    page.close()

    light = _shot(browser, html, tmp_path / "busy-desktop-light.png", viewport={"width": 1280, "height": 900})
    background = light.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(int(v) for v in background.removeprefix("rgb(").removesuffix(")").split(",")) > 3 * 200
    assert (tmp_path / "busy-phone-dark.png").stat().st_size > 50_000
    light.close()


def test_timeline_spans_the_days_of_a_story(browser: Any, tmp_path: Path) -> None:
    from pipeline.stories import StoryRecord

    lead = make_article(1, title="Strike enters third day", source="wire")
    others = [make_article(n, source=f"s{n}", story=lead.id) for n in (2, 3)]
    history = [
        StoryRecord(f"old{n}", lead.id, f"s{n}", lead.published_at - timedelta(days=1 + n % 2)) for n in range(5)
    ]
    html = render_html(build_digest(DAY, [lead, *others], history=history))
    page = _shot(browser, html, tmp_path / "timeline.png", viewport=PHONE)
    assert page.locator(".timeline li").count() == 3
    page.close()
