"""A news sitemap source through the stages: robots.txt -> sitemap index -> news sitemap (gzipped) -> pages,
over a real HTTP server, stored in a real SeaweedFS."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from pipeline import stages
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.sources import accounted

HTML = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPH = "The harbour authority said the new ferry would cut the crossing to twelve minutes from next spring. "


def _news_url(base: str, path: str, title: str, published: datetime) -> str:
    return (
        f"<url><loc>{base}{path}</loc><news:news><news:publication><news:name>Harbour Gazette</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{published.isoformat(timespec='seconds')}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
    )


def _site(server: FeedServer, now: datetime) -> None:
    base = server.url("")
    server.routes["/robots.txt"] = Route(
        body=f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap-index.xml\n".encode()
    )
    server.routes["/sitemap-index.xml"] = Route(
        body=(
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/news-sitemap.xml.gz</loc></sitemap>"
            f"<sitemap><loc>{base}/pages-sitemap.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/missing-sitemap.xml</loc></sitemap></sitemapindex>"
        ).encode()
    )
    news = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + _news_url(base, "/news/ferry", "Ferry crossing to take twelve minutes", now - timedelta(hours=3))
        + _news_url(base, "/news/bridge", "Bridge works &amp; closures", now - timedelta(days=1, hours=2))
        + _news_url(base, "/news/old", "Last week's story", now - timedelta(days=5))
        + _news_url(base, "/private/embargo", "Embargoed story", now - timedelta(hours=1))
        + f"<url><loc>{base}/about</loc><lastmod>{now.date().isoformat()}</lastmod></url></urlset>"
    )
    server.routes["/news-sitemap.xml.gz"] = Route(body=gzip.compress(news.encode()))
    server.routes["/pages-sitemap.xml"] = Route(
        body=(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/contact</loc></url></urlset>"
        ).encode()
    )
    for path, title in (("/news/ferry", "Ferry crossing"), ("/news/bridge", "Bridge works")):
        server.routes[path] = Route(
            body=f"<html><body><article><h1>{title}</h1><p>{PARAGRAPH * 3}</p></article></body></html>".encode(),
            headers=HTML,
        )


def test_a_news_sitemap_gives_the_last_two_days_with_their_pages(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _site(feed_server, now)
    settings.sources_file.write_text(
        f'[[sources]]\nid = "gazette"\nkind = "sitemap"\nurl = "{feed_server.url("/robots.txt")}"\n'
        "allow_private_network = true\n"
    )

    _, report = stages.ingest(store, settings, "run-1")
    result = accounted(report)["gazette"]
    assert (result.error, result.stored) == (None, 3)
    articles = {a["title"]: a for a in (json.loads(store.get_bytes(k)) for k in store.list_keys("articles/"))}
    assert sorted(articles) == ["Bridge works & closures", "Embargoed story", "Ferry crossing to take twelve minutes"]
    ferry = articles["Ferry crossing to take twelve minutes"]
    assert PARAGRAPH.strip() in ferry["text"] and ferry["text_source"] == "page"
    assert ferry["published_at"] == (now - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    assert (ferry["source_name"], ferry["language"]) == ("Harbour Gazette", "en")
    assert articles["Embargoed story"]["text"] == ""  # robots.txt disallows its page: never fetched
    assert feed_server.hits("/private/embargo") == 0 and feed_server.hits("/news/old") == 0
    assert feed_server.hits("/contact") == 0 and feed_server.hits("/about") == 0

    _, again = stages.ingest(store, settings, "run-2")
    assert accounted(again)["gazette"].not_modified == 1
    assert feed_server.hits("/news/ferry") == 1


def test_a_sitemap_source_that_leads_to_no_sitemap_fails_with_the_reason(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/robots.txt"] = Route(body=f"Sitemap: {feed_server.url('/gone.xml')}\n".encode())
    settings.sources_file.write_text(
        f'[[sources]]\nid = "gone"\nkind = "sitemap"\nurl = "{feed_server.url("/robots.txt")}"\n'
        "allow_private_network = true\n"
    )
    _, report = stages.ingest(store, settings, "run-1")
    assert "no sitemap found" in (accounted(report)["gone"].error or "")
    assert "HTTP 404" in (accounted(report)["gone"].error or "")
