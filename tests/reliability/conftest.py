"""Helpers for the reliability suite: feed sources on the test's feed server, and the accounting check."""

from __future__ import annotations

from collections import Counter

from pipeline.models import RunReport, StageResult
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.feedserver import FeedServer


def register_feeds(settings: Settings, server: FeedServer, paths: dict[str, str]) -> None:
    """Write the test's sources file: source id -> path on the feed server (kind from the extension)."""
    entries = [
        f'[[sources]]\nid = "{source_id}"\nkind = "{"jsonfeed" if path.endswith(".json") else "feed"}"\n'
        f'url = "{server.url(path)}"\nallow_private_network = true\n'
        for source_id, path in paths.items()
    ]
    settings.sources_file.write_text("\n".join(entries))


def accounted(report: RunReport) -> dict[str, StageResult]:
    """Every item read is stored, a duplicate or quarantined: per source, and for the run."""
    for result in report.sources:
        assert result.read == result.stored + result.duplicates + result.quarantined, result
    assert report.read == report.stored + report.duplicates + report.quarantined
    return {r.source: r for r in report.sources}


def stored_once(store: ObjectStore) -> Counter[str]:
    """Article ids under articles/, with how many keys each has (must be exactly one)."""
    ids = Counter(key.rsplit("/", 1)[1] for key in store.list_keys("articles/"))
    assert all(n == 1 for n in ids.values()), ids
    return ids
