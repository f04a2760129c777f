from __future__ import annotations

import json
import re
from datetime import date
from xml.etree import ElementTree

import pytest
from lxml import etree

from pipeline.digest import build_digest, render_atom, render_html, render_json, render_markdown
from pipeline.digest.render import PAGE_HEADERS, PAGE_POLICY, render_index
from tests.support.articles import DAY, make_article

# Every character XML 1.0 forbids (its Char production's complement below U+10000).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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
    assert "&lt;script&gt;" not in html, "markup is removed, not escaped into view"
    md = render_markdown(build_digest(DAY, [hostile]))
    assert "<script>" not in md and "javascript:" not in md


def test_titles_show_as_text_without_their_markup() -> None:
    marked = make_article(1, title="Floods in <b>Valencia</b> &amp; Murcia: <i>live</i>")
    [story] = build_digest(DAY, [marked]).stories
    assert story.headline == "Floods in Valencia & Murcia: live"
    assert "Floods in Valencia &amp; Murcia: live" in render_html(build_digest(DAY, [marked]))


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


@pytest.mark.parametrize("bad", ["\uffff", "\ufffe", "\x00", "\x1b", "\x0c", "\ud800"])
def test_a_headline_with_a_character_xml_forbids_leaves_every_rendering_well_formed(bad: str) -> None:
    # As an article stored before normalisation removed such characters would give it.
    articles = [make_article(1, title=f"Markets{bad} rally"), make_article(2, source=f"wire{bad}")]
    digest = build_digest(DAY, articles)
    atom = render_atom([digest], "urn:test")
    feed = etree.fromstring(atom.encode(), etree.XMLParser(recover=False, resolve_entities=False))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert "Markets rally" in feed.findtext("a:entry/a:summary", namespaces=ns)
    html = render_html(digest)
    for text in (atom, html, render_markdown(digest), render_json(digest), render_index([digest])):
        assert not NOT_XML.search(text)
    assert "Markets rally" in html and "WIRE" in html
    stored = json.loads(render_json(digest))
    assert stored["stories"][1]["headline"] == "Markets rally"


def test_pages_carry_their_policy_and_servers_get_it_as_headers_with_sandbox() -> None:
    digest = build_digest(DAY, [make_article(1)])
    for page in (render_html(digest), render_index([digest])):
        assert f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">' in page
    policy = PAGE_HEADERS["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["default-src"] == ["'none'"] and "script-src" not in directives  # no script, from nowhere
    assert directives["img-src"] == ["data:"] and directives["style-src"] == ["'unsafe-inline'"]  # nothing remote
    assert directives["sandbox"] == [] and directives["frame-ancestors"] == ["'self'"]
    assert PAGE_HEADERS["X-Content-Type-Options"] == "nosniff"


def test_a_story_says_what_its_reports_share_and_who_covered_it() -> None:
    from pipeline.models import Source

    one = make_article(1, title="Lindqvist ferry fire: 312 evacuated off Gotland", source="wire")
    two = make_article(2, title="Gotland rescue as Lindqvist ferry burns, 312 safe", source="paper", story=one.id)
    copy = make_article(3, title=one.title, source="regional", story=one.id).model_copy(update={"duplicate_of": one.id})
    sources = {
        "wire": Source(id="wire", kind="feed", url="https://wire.example/feed", country="US", outlet="wire"),
        "paper": Source(id="paper", kind="feed", url="https://paper.example/feed", country="SE", outlet="newspaper"),
    }
    [story] = build_digest(DAY, [one, two, copy], sources=sources).stories
    assert {"lindqvist", "gotland", "312"} <= {r.text.casefold() for r in story.why}
    assert story.coverage is not None
    assert (story.coverage.sources, story.coverage.originals, story.coverage.copies) == (3, 2, 1)
    assert story.coverage.countries == ["SE", "US"] and story.coverage.outlets == {"newspaper": 1, "wire": 1}
    assert [(m.source, m.copied) for m in story.also_reported_by] == [("PAPER", False), ("REGIONAL", True)]
