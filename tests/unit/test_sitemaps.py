from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.errors import PermanentError
from pipeline.models import DatePrecision, Source
from pipeline.parse import parse_payload

FETCHED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SOURCE = Source.model_validate({"id": "s", "kind": "sitemap", "url": "https://s.example/news.xml"})


def _entry(loc: str, published: str, title: str = "Title") -> str:
    return (
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>S</news:name>"
        f"<news:language>de</news:language></news:publication><news:publication_date>{published}"
        f"</news:publication_date><news:title>{title}</news:title></news:news></url>"
    )


def _sitemap(*entries: str) -> bytes:
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(entries) + "</urlset>"
    ).encode()


def test_articles_are_the_news_entries_of_the_last_two_days_newest_first() -> None:
    data = _sitemap(
        _entry("https://s.example/a", "2026-12-01T09:00:00+01:00", "Older"),
        _entry("https://s.example/b", "2026-12-02T11:00:00Z", "Newest"),
        _entry("https://s.example/c", "2026-12-02", "Day only"),
        _entry("https://s.example/d", "2026-11-29T09:00:00Z", "Too old"),
        _entry("javascript:alert(1)", "2026-12-02T11:00:00Z", "Not a page"),
        _entry("https://s.example/e", "2026-12-02T11:00:00Z", " "),
        "<url><loc>https://s.example/plain</loc></url>",
    )
    payload = parse_payload(data, SOURCE, "raw/s/1.xml", FETCHED)
    assert [(i.title, i.url, i.published_precision) for i in payload.items] == [
        ("Newest", "https://s.example/b", DatePrecision.TIME),
        ("Day only", "https://s.example/c", DatePrecision.DAY),
        ("Older", "https://s.example/a", DatePrecision.TIME),
    ]
    assert {(i.language_hint, i.source_name, i.index) for i in payload.items[:1]} == {("de", "S", 0)}
    capped = parse_payload(data, SOURCE.model_copy(update={"max_items": 1}), "raw/s/1.xml", FETCHED)
    assert (len(capped.items), capped.beyond_cap) == (1, 2)


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>Sitemap not found</body></html>",
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://s.example/n.xml'
        b"</loc></sitemap></sitemapindex>",
    ],
)
def test_what_is_not_a_list_of_pages_is_refused(data: bytes) -> None:
    with pytest.raises(PermanentError, match="not a news sitemap"):
        parse_payload(data, SOURCE, "raw/s/1.xml", FETCHED)
