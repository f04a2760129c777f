"""A feed reader's OPML export (miniflux's shape) imported with `news sources import`, then ingested: every feed
on a real local server, stored in a real SeaweedFS."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline import cli, stages
from pipeline.settings import Settings
from pipeline.sources import load_registry
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import OPML
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted

JSON_FEED = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "Lab", "items": [{"id": "1", "title": "Lab one"}]}'
)


def test_an_imported_reader_export_is_ingested_and_exports_back(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FeedServer("127.0.0.31") as news, FeedServer("127.0.0.32") as lab:
        news.routes["/world.xml"] = Route(body=rss("World", [rss_item("World one", "https://w.example/1")]))
        news.routes["/sport.xml"] = Route(body=rss("Sport", [rss_item("Sport one", "https://s.example/1")]))
        lab.routes["/feed.json"] = Route(body=JSON_FEED, headers={"Content-Type": "application/feed+json"})
        template = (OPML / "miniflux-export.opml").read_text()
        opml = settings.sources_file.parent / "miniflux.opml"
        opml.write_text(template.replace("http://news.test", news.url("")).replace("http://lab.test", lab.url("")))
        monkeypatch.setattr(cli, "get_settings", lambda: settings)

        imported = CliRunner().invoke(cli.app, ["sources", "import", str(opml), "--allow-private-network"])
        assert imported.exit_code == 0, imported.output
        registry = load_registry(settings.sources_file)
        assert [(s.id, s.kind.value, s.tags) for s in registry.sources] == [
            ("world", "feed", ["News"]),
            ("sport", "feed", ["News"]),
            ("lab-notes", "jsonfeed", ["Science"]),
        ]
        _, report = stages.ingest(store, settings, "run-1")
    results = accounted(report)
    assert {s: results[s].stored for s in ("world", "sport", "lab-notes")} == {"world": 1, "sport": 1, "lab-notes": 1}

    exported = CliRunner().invoke(cli.app, ["sources", "export"])
    assert exported.exit_code == 0
    assert exported.stdout.count('type="rss"') == 3 and '<outline text="News" title="News">' in exported.stdout
