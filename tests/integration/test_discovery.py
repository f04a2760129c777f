from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pipeline import cli
from pipeline.cli import app
from pipeline.fetch import BlockedAddressError, Fetcher, FetchPolicy
from pipeline.models import SourceKind
from pipeline.sources import load_registry
from pipeline.sources.discovery import FeedCandidate, discover_feeds
from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item

ERROR_PAGE = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Oops</h1></body></html>"
ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Site (Atom)</title>'
    b"<id>urn:x</id><updated>2026-12-01T10:00:00Z</updated><entry><title>One</title><id>urn:1</id>"
    b'<link href="https://site.example/1"/><updated>2026-12-01T10:00:00Z</updated></entry></feed>'
)
JSON_FEED = json.dumps(
    {"version": "https://jsonfeed.org/version/1.1", "title": "Site (JSON)", "items": [{"id": "1", "title": "One"}]}
).encode()
HTML = "text/html; charset=utf-8"


@pytest.fixture
def sites() -> Iterator[tuple[FeedServer, FeedServer]]:
    """A site naming four alternates (one misleading, one missing) and a Link header; its feeds on two hosts."""
    with FeedServer("127.0.0.21") as site, FeedServer("127.0.0.22") as cdn:
        page = f"""<!DOCTYPE html><html><head><title>Site</title>
        <link rel="alternate" type="application/rss+xml" title="Main" href="/rss.xml">
        <link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed">
        <link rel="alternate" type="application/atom+xml" href="{cdn.url("/site.atom")}">
        <link rel="alternate" type="application/feed+json" href="feed.json">
        <link rel="alternate" type="application/rss+xml" href="/gone.xml">
        <link rel="alternate" hreflang="fr" href="/fr/">
        <link rel="stylesheet" type="text/css" href="/style.css">
        </head><body><p>Welcome</p></body></html>"""
        site.routes["/"] = Route(
            body=page.encode(),
            headers={"Content-Type": HTML, "Link": '</header.rss>; rel="alternate"; type="application/rss+xml"'},
        )
        site.routes["/rss.xml"] = Route(body=rss("Site", [rss_item("One", "https://site.example/1")]))
        site.routes["/header.rss"] = Route(body=rss("Site (header)", [rss_item("Two", "https://site.example/2")]))
        site.routes["/comments/feed"] = Route(body=ERROR_PAGE, headers={"Content-Type": HTML})  # 200, not a feed
        site.routes["/feed.json"] = Route(body=JSON_FEED, headers={"Content-Type": "application/feed+json"})
        cdn.routes["/site.atom"] = Route(body=ATOM, headers={"Content-Type": "application/atom+xml"})
        yield site, cdn


def _discover(address: str, allow_private: bool = True) -> list[FeedCandidate]:
    async def run() -> list[FeedCandidate]:
        async with Fetcher(FetchPolicy()) as fetcher:
            return await discover_feeds(fetcher, address, allow_private)

    return asyncio.run(run())


def _news(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _said(result: Result) -> str:
    """The command's output as one line: long lines are wrapped at the terminal's width."""
    return " ".join(result.output.split())


def test_the_sites_real_feeds_are_offered_and_the_misleading_ones_are_not(sites: tuple[FeedServer, FeedServer]) -> None:
    site, cdn = sites
    found = _discover(site.url("/"))
    assert [(c.url, c.kind, c.found_by, c.items) for c in found] == [
        (site.url("/header.rss"), SourceKind.FEED, "header", 1),
        (site.url("/rss.xml"), SourceKind.FEED, "link", 1),
        (cdn.url("/site.atom"), SourceKind.FEED, "link", 1),
        (site.url("/feed.json"), SourceKind.JSONFEED, "link", 1),
    ]
    assert found[1].title == "Site"
    assert site.hits("/comments/feed") == 1 and site.hits("/gone.xml") == 1
    assert site.hits("/feed") == 0  # common paths only when the site names no feed


def test_common_paths_are_tried_when_the_page_names_none() -> None:
    with FeedServer("127.0.0.23") as site:
        site.routes["/"] = Route(body=b"<html><body>No links</body></html>", headers={"Content-Type": HTML})
        site.routes["/feed"] = Route(body=ERROR_PAGE, headers={"Content-Type": HTML})
        site.routes["/atom.xml"] = Route(body=ATOM)
        found = _discover(site.url("/"))
        assert [(c.url, c.found_by) for c in found] == [(site.url("/atom.xml"), "path")]
        assert site.hits("/feed") == 1 and site.hits("/rss.xml") == 1


def test_a_feeds_own_address_is_its_only_candidate(sites: tuple[FeedServer, FeedServer]) -> None:
    site, _ = sites
    assert [c.found_by for c in _discover(site.url("/rss.xml"))] == ["address"]


def test_discovery_keeps_the_fetchers_guard() -> None:
    with FeedServer("127.0.0.24") as site:
        site.routes["/"] = Route(body=b"<html></html>")
        with pytest.raises(BlockedAddressError):
            _discover(site.url("/"), allow_private=False)
        assert site.requests == []


def test_add_without_a_terminal_lists_the_feeds_then_adds_the_one_picked(
    sites: tuple[FeedServer, FeedServer], tmp_path: Path
) -> None:
    site, cdn = sites
    sources = tmp_path / "sources.toml"
    sources.write_text("# mine\n")
    listed = _news("sources", "add", site.url("/"), "--allow-private-network", "--sources", str(sources))
    assert listed.exit_code == 1
    assert "4 feeds found; choose one with --pick N" in _said(listed)
    assert f"3. {cdn.url('/site.atom')} (feed, 1 items, by link)" in _said(listed)
    assert sources.read_text() == "# mine\n"
    bad_id = _news("sources", "add", site.url("/"), "--pick", "1", "--id", "Not a slug", "--allow-private-network",
                   "--sources", str(sources))  # fmt: skip
    assert bad_id.exit_code == 1 and "cannot add" in _said(bad_id) and sources.read_text() == "# mine\n"

    added = _news("sources", "add", site.url("/"), "--pick", "4", "--tag", "science", "--allow-private-network",
                  "--sources", str(sources))  # fmt: skip
    assert added.exit_code == 0, added.output
    (source,) = load_registry(sources).sources
    assert (source.id, source.kind, str(source.url), source.name, source.tags, source.allow_private_network) == (
        "site-json", SourceKind.JSONFEED, site.url("/feed.json"), "Site (JSON)", ["science"], True
    )  # fmt: skip
    assert sources.read_text().startswith("# mine\n")

    again = _news("sources", "add", site.url("/feed.json"), "--allow-private-network", "--sources", str(sources))
    assert again.exit_code == 1 and "already in the registry as 'site-json'" in _said(again)


def test_add_says_when_no_feed_is_found(tmp_path: Path) -> None:
    with FeedServer("127.0.0.25") as site:
        site.routes["/"] = Route(body=ERROR_PAGE, headers={"Content-Type": HTML})
        result = _news(
            "sources", "add", site.url("/"), "--allow-private-network", "--sources", str(tmp_path / "s.toml")
        )
        assert result.exit_code == 1 and "no feed found" in _said(result)
        assert not (tmp_path / "s.toml").exists()


def test_on_a_terminal_add_asks_which_feed(
    sites: tuple[FeedServer, FeedServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, cdn = sites
    sources = tmp_path / "sources.toml"
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    args = ["sources", "add", site.url("/"), "--allow-private-network", "--sources", str(sources)]
    result = CliRunner().invoke(cli.app, args, input="3\n")
    assert result.exit_code == 0, result.output
    assert "Feed to add" in result.output
    assert [str(s.url) for s in load_registry(sources).sources] == [cdn.url("/site.atom")]
