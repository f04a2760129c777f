"""Rules through the stages and `news rules test`: a real HTTP server, a real SeaweedFS, the CLI itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipeline import cli, stages
from pipeline.models import Article
from pipeline.settings import Settings
from pipeline.stages.store import write_article
from pipeline.storage.keys import article_key
from pipeline.storage.store import ObjectStore
from tests.support.articles import make_article
from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds

PUBLISHED = "Sun, 07 Jan 2024 10:00:00 GMT"
NO_ADS = '[[rules]]\nname = "no-ads"\naction = "drop"\nwords = ["sponsored"]\n'


def serve(server: FeedServer, items: dict[str, str]) -> None:
    """One feed at /wire.xml: title -> description."""
    entries = [rss_item(t, f"https://news.example/{n}", d, PUBLISHED) for n, (t, d) in enumerate(items.items())]
    server.routes["/wire.xml"] = Route(body=rss("Wire", entries), headers={"Content-Type": "application/rss+xml"})


def stored(store: ObjectStore) -> dict[str, Article]:
    articles = (Article.model_validate_json(store.get_bytes(k)) for k in store.list_keys("articles/"))
    return {a.title: a for a in articles}


def test_a_dropped_item_is_counted_kept_in_raw_and_comes_back_on_replay(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(
        feed_server,
        {
            "Markets rally as shares rise": "Shares rose across the board.",
            "SPONSORED: win a car": "A partner's offer.",
            "Quiet day in parliament": "Nothing much happened.",
        },
    )
    register_feeds(settings, feed_server, {"wire": "/wire.xml"})
    registered = settings.sources_file.read_text()
    own_tag = '[[sources.rules]]\nname = "markets"\naction = "tag"\nfields = ["title"]\nregex = "(?i)shares?"\n'
    settings.sources_file.write_text(NO_ADS + "\n" + registered + own_tag)

    _, report = stages.ingest(store, settings, "run-1")
    wire = accounted(report)["wire"]
    assert (wire.read, wire.stored, wire.filtered, report.filtered) == (3, 2, 1, 1)
    articles = stored(store)
    assert set(articles) == {"Markets rally as shares rise", "Quiet day in parliament"}
    assert articles["Markets rally as shares rise"].tags == ["markets"]
    assert articles["Quiet day in parliament"].tags == []
    assert len(wire.raw_keys) == 1 and store.etag(wire.raw_keys[0]), "the payload stays in raw/"
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "console", Console(markup=False, emoji=False, width=200))  # one line a row
    shown = CliRunner().invoke(cli.app, ["runs", "show", "--dag", "cli"]).output
    [header] = [line for line in shown.splitlines() if "source" in line and "quarantined" in line]
    assert [c.strip() for c in header.split("┃")][-3:-1] == ["filtered", "status"]
    [row] = [line for line in shown.splitlines() if line.startswith("│ wire")]
    assert [c.strip() for c in row.split("│")][2:8] == ["0", "3", "2", "0", "0", "1"]

    settings.sources_file.write_text(registered)  # the drop rule and the tag rule removed
    _, replayed = stages.replay(store, settings, datetime.now(UTC).date())
    again = accounted(replayed)["wire"]
    # Stored: the item back, and the article whose tag went away; the quiet day is unchanged.
    assert (again.read, again.stored, again.duplicates, again.filtered) == (3, 2, 1, 0)
    articles = stored(store)
    assert "SPONSORED: win a car" in articles
    untagged = articles["Markets rally as shares rise"]
    assert (untagged.tags, untagged.revision) == ([], 1), "new tags, the same revision"


def test_entity_rules_are_applied_after_enrichment(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    serve(
        feed_server,
        {
            "Floods in the south": "Rivers burst their banks near Lyon, France, on Sunday.",
            "Markets close higher": "Traders were cheerful as indices rose for a third day.",
        },
    )
    register_feeds(settings, feed_server, {"wire": "/wire.xml"})
    country = '[[rules]]\nname = "not-france"\naction = "drop"\nfields = ["country"]\nwords = ["fr"]\n'
    settings.sources_file.write_text(country + "\n" + settings.sources_file.read_text())

    fetched = stages.fetch_sources(store, settings, ["wire"], "run-1")
    normalised = stages.normalise_sources(store, settings, fetched)
    assert normalised[0].filtered == 0, "a country is only known after enrichment"
    enriched = stages.enrich_sources(store, settings, normalised)
    assert enriched[0].filtered == 1
    [result] = stages.store_sources(store, settings, enriched)
    assert (result.read, result.stored, result.filtered) == (2, 1, 1)
    assert set(stored(store)) == {"Markets close higher"}


def test_rules_test_shows_each_rules_effect_on_the_newest_articles_and_writes_nothing(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles = ["Sponsored: a cruise", "Shares rise", "Shares fall", "Sponsored: old news", "Budget day"]
    for n, title in enumerate(titles):
        day = date(2024, 1, 7) - timedelta(days=n // 3)  # the last two a day older
        article = make_article(n, title=title).model_copy(update={"published_date": day, "source": "wire"})
        write_article(store, article_key(day, article.id), article)
    settings.sources_file.write_text(
        NO_ADS + '[[rules]]\nname = "markets"\naction = "tag"\nwords = ["shares"]\n'
        '[[sources]]\nid = "wire"\nkind = "feed"\nurl = "https://news.example/rss"\n'
        '[[sources.rules]]\nname = "economy-only"\naction = "keep"\nwords = ["shares", "budget"]\n'
    )
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    before = {key: store.etag(key) for key in store.list_keys("")}

    result = CliRunner().invoke(cli.app, ["rules", "test", "--last", "3"])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "drops" in rows["no-ads"] and " 1 " in rows["no-ads"] and "Sponsored: a cruise" in rows["no-ads"]
    assert "tags 'markets'" in rows["markets"] and " 2 " in rows["markets"]
    assert "keeps" in rows["economy-only"] and " 2 " in rows["economy-only"]
    assert "Sponsored: old news" not in result.output, "only the newest three are read"
    assert "all rules together: 2 kept (2 tagged), 1 dropped" in result.output

    everything = CliRunner().invoke(cli.app, ["rules", "test", "--rule", "economy-only"])
    assert everything.exit_code == 0, everything.output
    assert "no-ads" not in everything.output and "rules on the newest 5 stored article(s)" in everything.output
    assert "all rules together: 3 kept (2 tagged), 2 dropped" in everything.output
    missing = CliRunner().invoke(cli.app, ["rules", "test", "--rule", "nope"])
    assert missing.exit_code == 1 and "no rule named 'nope'" in " ".join(missing.output.split())
    assert {key: store.etag(key) for key in store.list_keys("")} == before, "nothing is written"
