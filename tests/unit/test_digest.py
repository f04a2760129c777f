from __future__ import annotations

import json
from datetime import date
from xml.etree import ElementTree

from pipeline.digest import build_digest, render_atom, render_html, render_json, render_markdown
from tests.support.articles import DAY, make_article


def test_stories_group_articles_and_rank_by_sources_then_recency() -> None:
    articles = [
        make_article(1, story="s-a", source="one"),
        make_article(2, story="s-a", source="two"),
        make_article(3, story="s-b", source="one"),
        make_article(9, story="s-c", source="one"),
    ]
    digest = build_digest(DAY, articles)
    assert [s.story_id for s in digest.stories] == ["s-a", "s-c", "s-b"]
    assert digest.stories[0].headline == "Story number 1"
    assert [m.source for m in digest.stories[0].also_reported_by] == ["TWO"]
    assert digest.counts.model_dump() == {"articles": 4, "sources": 2, "stories": 3, "languages": 1}


def test_same_articles_in_any_order_give_identical_bytes() -> None:
    articles = [make_article(n, story=f"s{n % 3}", source=f"src{n % 2}") for n in range(12)]
    one, two = build_digest(DAY, articles), build_digest(DAY, list(reversed(articles)))
    for render in (render_html, render_markdown, render_json):
        assert render(one) == render(two)


def test_empty_day_is_a_clear_digest_not_an_error() -> None:
    digest = build_digest(DAY, [])
    assert "No articles for 2024-01-07." in render_html(digest)
    assert "No articles for 2024-01-07." in render_markdown(digest)
    assert json.loads(render_json(digest))["counts"]["articles"] == 0


def test_hostile_title_and_links_are_inert_in_html_and_markdown() -> None:
    hostile = make_article(
        1, title='<script>alert(1)</script><img src=x onerror="alert(2)">', url="javascript:alert(3)"
    )
    html = render_html(build_digest(DAY, [hostile]))
    assert "<script>alert" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    md = render_markdown(build_digest(DAY, [hostile]))
    assert "<script>" not in md and "javascript:" not in md


def test_atom_feed_is_well_formed_and_newest_first() -> None:
    digests = [build_digest(date(2024, 1, d), [make_article(d)]) for d in (5, 7, 6)]
    feed = ElementTree.fromstring(render_atom(digests, "urn:test"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    links = [e.find("a:link", ns).get("href") for e in feed.findall("a:entry", ns)]  # type: ignore[union-attr]
    assert links == ["2024-01-07/digest.html", "2024-01-06/digest.html", "2024-01-05/digest.html"]


def test_index_lists_digests_newest_first() -> None:
    from pipeline.digest.render import render_index

    html = render_index([build_digest(date(2024, 1, d), [make_article(d)]) for d in (5, 7, 6)])
    assert html.index('href="2024-01-07"') < html.index('href="2024-01-06"') < html.index('href="2024-01-05"')
    assert "No digest has been published yet." in render_index([])
