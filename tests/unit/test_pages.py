"""Article pages written for the project: each `case.html` beside `case.expected.json`, extracted and merged
into an item that has only a link, as the fetch stage gives it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.fulltext import PageText, extract_page
from pipeline.models import Article, DatePrecision, DateSource, RawItem
from pipeline.normalise import normalise_item, with_page
from pipeline.page_meta import PageDate, PageMeta
from tests.support.paths import PAGES

CASES = sorted(PAGES.glob("*.html"))
FETCHED = datetime(2025, 6, 1, tzinfo=UTC)
_FIELDS = (
    "title", "title_derived", "authors", "published_at", "published_precision", "modified_at", "date_source",
    "section", "description", "site_name", "image_url", "canonical_url", "lead", "origins",
)  # fmt: skip


def _item(url: str, **fields: Any) -> RawItem:
    return RawItem(
        source_id="pages", raw_key="raw/pages/x", index=0, fetched_at=FETCHED, url=url, sections=[], **fields
    )


def _observed(article: Article) -> dict[str, Any]:
    observed = article.model_dump(mode="json", include=set(_FIELDS))
    return observed | {"paragraphs": sum(len(s.paragraphs) for s in article.sections)}


def test_every_kind_of_page_has_a_case() -> None:
    assert {c.stem for c in CASES} >= {"json-ld", "open-graph", "microdata", "none"}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_page_case(case: Path) -> None:
    expected = json.loads(case.with_suffix(".expected.json").read_text())
    url = expected.pop("url")
    article = normalise_item(with_page(_item(url), extract_page(case.read_bytes(), url)))
    assert _observed(article) == expected


def test_feed_values_win_and_the_page_fills_the_gaps() -> None:
    url = "https://courier.example/news/2025/03/harbour-bridge-reopens"
    published = datetime(2025, 3, 14, 8, 0, tzinfo=UTC)
    item = _item(url, title="Bridge open again", authors=["Desk"], published_at=published, date_source=DateSource.FEED)
    article = normalise_item(with_page(item, extract_page((PAGES / "json-ld.html").read_bytes(), url)))
    assert (article.title, article.authors, article.published_at) == ("Bridge open again", ["Desk"], published)
    assert article.origins["title"] == article.origins["authors"] == article.origins["published_at"] == "feed"
    assert (article.section, article.origins["section"]) == ("Local", "json-ld")
    assert article.modified_at == datetime(2025, 3, 14, 14, 5, tzinfo=UTC)


def test_a_date_only_feed_value_takes_the_page_time_of_the_same_day() -> None:
    day = datetime(2025, 3, 14, tzinfo=UTC)
    item = _item("https://a.example/x", title="T", published_at=day, date_source=DateSource.FEED,
                 published_precision=DatePrecision.DAY)  # fmt: skip
    exact = PageDate(datetime(2025, 3, 14, 9, 30, tzinfo=UTC), has_time=True)
    other_day = PageDate(datetime(2025, 3, 15, 9, 30, tzinfo=UTC), has_time=True)
    merged = with_page(item, PageText(None, PageMeta(published=exact, origins={"published": "json-ld"})))
    assert (merged.published_at, merged.published_precision) == (exact.value, DatePrecision.TIME)
    kept = with_page(item, PageText(None, PageMeta(published=other_day)))
    assert (kept.published_at, kept.published_precision) == (day, DatePrecision.DAY)


def test_a_page_canonical_url_elsewhere_is_not_kept_and_the_id_stays() -> None:
    url = "https://other.example/story"
    page = extract_page((PAGES / "json-ld.html").read_bytes(), url)
    fetched = normalise_item(with_page(_item(url, title="T"), page))
    plain = normalise_item(_item(url, title="T"))
    assert fetched.canonical_url is None and fetched.id == plain.id


def test_dates_in_boxes_of_other_articles_are_not_the_page_date() -> None:
    page = (
        b"<html><body><div class='related-stories'><time datetime='2019-01-02T08:00:00Z'>old</time></div>"
        b"<article><h1>Now</h1><time datetime='2025-02-03T10:00:00+01:00'>today</time>"
        b"<p>" + b"A paragraph of the story itself, long enough to be the article's text. " * 6 + b"</p></article>"
        b"<aside><time datetime='2018-01-01'>older</time></aside></body></html>"
    )
    meta = extract_page(page, "https://a.example/now").meta
    assert meta.published is not None and meta.published.value == datetime(2025, 2, 3, 9, tzinfo=UTC)
    assert meta.origins["published"] == "time"


def test_author_fields_lose_their_by_and_profile_links() -> None:
    page = (
        b'<html><head><meta name="author" content="By Ana Ruiz"><meta property="article:author" '
        b'content="https://a.example/staff/ana"></head><body><article><p>'
        + b"A paragraph of the story itself, long enough to be the article's text. " * 6
        + b"</p></article></body></html>"
    )
    assert extract_page(page, "https://a.example/x").meta.authors == ["Ana Ruiz"]


@pytest.mark.parametrize(
    "json_ld",
    [
        '{"@type": "NewsArticle", "headline": ["A", "B"], "author": 7, "datePublished": 20250101, "image": [{}]}',
        '{"@type": 5, "@graph": {"@type": "Article", "author": [{"name": ["X"]}, null], "publisher": "P"}}',
        '[[[[[{"@type": "NewsArticle"}]]]]]',
        '{"@type": "NewsArticle", "datePublished": "0000-00-00", "dateModified": "9999-12-31T23:59:59-05:00"}',
        "{not json",
        '"a string"',
    ],
)
def test_odd_structured_data_is_read_or_ignored_never_fatal(json_ld: str) -> None:
    page = (
        f'<html><head><script type="application/ld+json">{json_ld}</script></head><body><article><p>'
        + "A paragraph of the story itself, long enough to be the article's text. " * 6
        + "</p></article></body></html>"
    ).encode()
    extracted = extract_page(page, "https://a.example/odd")
    assert extracted.html and "paragraph of the story" in extracted.html
    article = normalise_item(with_page(_item("https://a.example/odd"), extracted))
    assert article.published_at == FETCHED or article.published_at.year >= 1990


def test_json_ld_references_within_its_graph_are_followed() -> None:
    graph = (
        '{"@context": "https://schema.org", "@graph": ['
        '{"@type": "Organization", "@id": "https://b.example/#org", "name": "Bay News"},'
        '{"@type": "Person", "@id": "https://b.example/#ana", "name": "Ana Ruiz"},'
        '{"@type": "ImageObject", "@id": "https://b.example/#img", "url": "https://b.example/i.jpg"},'
        '{"@type": "NewsArticle", "headline": "Bay bridge", "author": {"@id": "https://b.example/#ana"},'
        ' "image": {"@id": "https://b.example/#img"}, "publisher": {"@id": "https://b.example/#org"}}]}'
    )
    page = (
        f'<html><head><script type="application/ld+json">{graph}</script></head><body><article><p>'
        + "A paragraph of the story itself, long enough to be the article's text. " * 6
        + "</p></article></body></html>"
    ).encode()
    meta = extract_page(page, "https://b.example/bay").meta
    assert (meta.authors, meta.image_url, meta.site_name) == (["Ana Ruiz"], "https://b.example/i.jpg", "Bay News")


def test_the_site_name_after_a_headline_goes_and_a_name_with_its_degrees_stays_one() -> None:
    page = (
        b'<html><head><meta property="og:title" content="Bridge reopens | The Courier">'
        b'<meta property="og:site_name" content="The Courier"><meta name="author" content="Ana Ruiz, MD">'
        b"</head><body><article><p>"
        + b"A paragraph of the story itself, long enough to be the article's text. " * 6
        + b"</p></article></body></html>"
    )
    meta = extract_page(page, "https://c.example/bridge").meta
    assert (meta.title, meta.authors) == ("Bridge reopens", ["Ana Ruiz, MD"])


def test_relative_image_and_canonical_addresses_are_made_absolute() -> None:
    page = (
        b'<html><head><link rel="canonical" href="/news/bridge"><meta property="og:image" content="/img/b.jpg">'
        b"</head><body><article><p>"
        + b"A paragraph of the story itself, long enough to be the article's text. " * 6
        + b"</p></article></body></html>"
    )
    meta = extract_page(page, "https://c.example/news/bridge?utm_source=x").meta
    assert (meta.canonical_url, meta.image_url) == ("https://c.example/news/bridge", "https://c.example/img/b.jpg")
