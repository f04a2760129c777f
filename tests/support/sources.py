"""Sources for a test's sources file (seed documents, feeds on the test's server), and the accounting checks."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

from pipeline.models import RunReport, SourceReport
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer
from tests.support.paths import DOCUMENTS

SEED_DAY = date(2024, 1, 7)  # the day of the seed article, seed-kamikawa.txt


def seed_documents(settings: Settings, *names: str, source_id: str = "seeds", folder: str = "docs") -> Path:
    """Register a documents source in the test's sources file, holding these fixture documents."""
    target = settings.sources_file.parent / folder
    target.mkdir()
    for name in names:
        shutil.copy(DOCUMENTS / name, target)
    settings.sources_file.write_text(
        f'[[sources]]\nid = "{source_id}"\nkind = "documents"\npath = "{folder}"\nname = "Seed articles"\n'
    )
    return target


def register_feeds(settings: Settings, server: FeedServer, paths: dict[str, str], allow_private: bool = True) -> None:
    """Write the test's sources file: source id -> path on the feed server (kind from the extension)."""
    entries = [
        f'[[sources]]\nid = "{source_id}"\nkind = "{"jsonfeed" if path.endswith(".json") else "feed"}"\n'
        f'url = "{server.url(path)}"\nallow_private_network = {str(allow_private).lower()}\n'
        for source_id, path in paths.items()
    ]
    settings.sources_file.write_text("\n".join(entries))


def accounted(report: RunReport) -> dict[str, SourceReport]:
    """Every item read is stored, a duplicate, quarantined or filtered by a rule: per source, and for the run."""
    for result in report.sources:
        assert result.read == result.stored + result.duplicates + result.quarantined + result.filtered, result
    assert report.read == report.stored + report.duplicates + report.quarantined + report.filtered
    return {r.source: r for r in report.sources}


def stored_once(store: ObjectStore) -> Counter[str]:
    """Article ids under articles/, with how many keys each has (must be exactly one)."""
    ids = Counter(key.rsplit("/", 1)[1] for key in store.list_keys("articles/"))
    assert all(n == 1 for n in ids.values()), ids
    return ids
