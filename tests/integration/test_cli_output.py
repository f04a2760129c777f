"""`news` prints what feeds wrote as it is: never as Rich markup, emoji codes or terminal control codes.

Against a real bucket on the session's SeaweedFS, feeds from a real HTTP server, through the CLI itself."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner, Result

from pipeline import cli, stages
from pipeline.settings import Settings
from pipeline.stages.store import write_article
from pipeline.storage.keys import article_key
from pipeline.storage.store import ObjectStore
from tests.support.articles import make_article
from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item
from tests.support.sources import register_feeds

DAY = date(2024, 1, 7)
HOSTILE_TITLES = [
    "Markets [/] slide",  # a closing tag with nothing open: rich raised MarkupError
    "[link=https://evil.example/]Read the full report[/link]",  # became a hidden hyperlink
    "[bold red]URGENT[/bold red] :warning: update now",  # styled, and the emoji code replaced
]


def _news(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return CliRunner().invoke(cli.app, list(args))


def _flat(output: str) -> str:
    """The output with the line breaks of wrapping undone."""
    return " ".join(output.split())


def test_titles_from_a_feed_print_literally(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [
        rss_item(title, f"https://news.example/{n}", "Body text.", "Sun, 07 Jan 2024 10:00:00 GMT")
        for n, title in enumerate(HOSTILE_TITLES)
    ]
    feed_server.routes["/feed.xml"] = Route(body=rss("[red]Wire[/red]", items))
    register_feeds(settings, feed_server, {"wire": "/feed.xml"})

    ingested = _news(settings, monkeypatch, "ingest")
    assert ingested.exit_code == 0, ingested.output
    listed = _news(settings, monkeypatch, "articles", "list", "--date", DAY.isoformat())
    assert listed.exit_code == 0, listed.output
    for title in HOSTILE_TITLES:
        assert title in _flat(listed.output)
    assert "\u26a0" not in listed.output  # what the emoji code would have become

    stages.compact_lake(store, DAY)
    queried = _news(settings, monkeypatch, "query", "select title as \"[/]\" from articles where title like '%[/]%'")
    assert queried.exit_code == 0, queried.output
    assert "│ Markets [/] slide │" in queried.output and "┃ [/] " in queried.output  # a cell, the header


def test_control_codes_in_a_stored_title_never_reach_the_terminal(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As an article stored before normalisation removed control characters would hold it.
    title = "Quiet\x1b]0;owned\x07 \x1b[2Jday \x9b31m"
    article = make_article(1, title=title)
    write_article(store, article_key(DAY, article.id), article)
    listed = _news(settings, monkeypatch, "articles", "list", "--date", DAY.isoformat())
    assert listed.exit_code == 0, listed.output
    assert "\x1b" not in listed.output and "\x9b" not in listed.output and "\x07" not in listed.output
    assert "Quiet]0;owned [2Jday 31m" in _flat(listed.output)


def test_an_error_naming_feed_text_prints_literally(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _news(settings, monkeypatch, "runs", "show", "--dag", "[/]nightly[link=x]")
    assert result.exit_code == 1
    assert "error: no run report under runs/[/]nightly[link=x]/" in _flat(result.output)


def test_routine_sources_fold_into_one_line_and_all_lists_them(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"poll_min_interval": 300.0, "poll_max_interval": 86400.0})
    feed_server.routes["/down.xml"] = Route(status=404)
    paths = {f"quiet-{n}": f"/quiet-{n}.xml" for n in range(3)}
    for n, path in enumerate(paths.values()):
        feed_server.routes[path] = Route(body=rss("Quiet", [rss_item(f"Item {n}", f"https://q.example/{n}")]))
    register_feeds(settings, feed_server, paths | {"down": "/down.xml"})
    assert _news(settings, monkeypatch, "ingest").exit_code == 0
    again = _flat(_news(settings, monkeypatch, "ingest").output)
    assert "3 more sources" in again and "not due" in again and "quiet-0" not in again
    assert "down" in again and "404" in again  # backing off from a failure keeps its row and reason
    listed = _flat(_news(settings, monkeypatch, "ingest", "--all").output)
    assert all(source in listed for source in paths) and "more sources" not in listed
