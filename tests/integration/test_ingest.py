"""The stages end to end against the real SeaweedFS, without Airflow."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline import stages
from pipeline.settings import Settings
from pipeline.sources.inbox import claim_new_documents
from pipeline.storage.store import ObjectStore
from tests.support.paths import DOCUMENTS
from tests.support.sources import SEED_DAY, seed_documents


@pytest.fixture
def sources(settings: Settings) -> Path:
    """A documents source holding the seed article and one document without a date header."""
    return seed_documents(settings, "seed-kamikawa.txt", "no-date-header.txt")


def snapshot(store: ObjectStore, *prefixes: str) -> dict[str, str | None]:
    return {key: store.etag(key) for prefix in prefixes for key in store.list_keys(prefix)}


def test_ingest_stores_the_seed_and_quarantines_the_undated(
    settings: Settings, store: ObjectStore, sources: Path
) -> None:
    key, report = stages.ingest(store, settings, "run-1")
    assert (report.read, report.stored, report.duplicates, report.quarantined) == (2, 1, 0, 1)
    assert report.read == report.stored + report.duplicates + report.quarantined
    assert report.dates == [SEED_DAY]
    assert json.loads(store.get_bytes(key))["stored"] == 1

    [article_key] = list(store.list_keys(f"articles/date={SEED_DAY}/"))
    article = json.loads(store.get_bytes(article_key))
    assert article_key == f"articles/date=2024-01-07/{article['id']}.json"
    assert article["schema_version"] == 1
    assert article["source"] == "seeds"
    assert article["title"].startswith("Foreign Minister Yoko Kamikawa promised to continue Japan's support")
    assert article["title_derived"] is True
    assert article["published_at"] == "2024-01-07T00:00:00Z"
    assert article["date_source"] == "header"
    assert article["language"] == "en"
    assert len(article["content_hash"]) == 64
    assert [s["heading"] for s in article["sections"]] == [None, "Details", "Optional", "Recall"]
    assert store.get_bytes(article["raw_key"]).startswith(b" date 2024-01-07")

    [quarantined] = list(store.list_keys("quarantine/"))
    record = json.loads(store.get_bytes(quarantined))
    assert "no `date YYYY-MM-DD` header" in record["reason"]
    assert store.get_bytes(record["raw_key"]).startswith(b"Foreign Minister arrived")
    assert list(store.list_keys("staging/")) == []


def test_rerun_is_idempotent_and_skips_unchanged_input(settings: Settings, store: ObjectStore, sources: Path) -> None:
    stages.ingest(store, settings, "run-1")
    before = snapshot(store, "articles/", "quarantine/")
    state_keys = list(store.list_keys("state/"))

    _, again = stages.ingest(store, settings, "run-2")
    assert (again.not_modified, again.read, again.stored) == (2, 0, 0)

    _, forced = stages.ingest(store, settings, "run-3", force=True)
    assert (forced.read, forced.stored, forced.duplicates, forced.quarantined) == (2, 0, 1, 1)
    assert snapshot(store, "articles/", "quarantine/") == before
    assert list(store.list_keys("state/")) == state_keys


def test_changed_document_becomes_a_new_revision(settings: Settings, store: ObjectStore, sources: Path) -> None:
    stages.ingest(store, settings, "run-1")
    seed = sources / "seed-kamikawa.txt"
    seed.write_text(seed.read_text() + "\nAn update was added later in the day.\n")
    _, report = stages.ingest(store, settings, "run-2")
    assert (report.read, report.stored) == (1, 1)
    [key] = list(store.list_keys("articles/"))
    article = json.loads(store.get_bytes(key))
    assert article["revision"] == 2
    assert article["text"].endswith("An update was added later in the day.")


def test_a_run_that_fails_before_storing_refetches_next_time(
    settings: Settings, store: ObjectStore, sources: Path
) -> None:
    fetched = stages.fetch_sources(store, settings, ["seeds"], "crashed-run")
    stages.normalise_sources(store, settings, fetched)  # ...and the run dies before enrich/store
    _, report = stages.ingest(store, settings, "run-2")
    assert (report.read, report.stored, report.quarantined) == (2, 1, 1)


def test_digest_is_published_in_every_format(settings: Settings, store: ObjectStore, sources: Path) -> None:
    stages.ingest(store, settings, "run-1")
    keys = stages.publish_daily_digest(store, settings, SEED_DAY)
    assert keys["html"] == "digests/2024-01-07/digest.html"
    html = store.get_bytes("digests/2024-01-07/digest.html").decode()
    assert "Foreign Minister Yoko Kamikawa promised" in html
    assert store.get_bytes("digests/latest.html").decode() == html
    digest = json.loads(store.get_bytes("digests/2024-01-07/digest.json"))
    assert digest["counts"] == {"articles": 1, "sources": 1, "stories": 1, "languages": 1}
    assert "Foreign Minister Yoko Kamikawa" in store.get_bytes("digests/2024-01-07/digest.md").decode()
    assert b"<feed" in store.get_bytes("digests/feed.atom")

    etags = snapshot(store, "digests/")
    stages.publish_daily_digest(store, settings, SEED_DAY)
    assert snapshot(store, "digests/") == etags, "rebuilding the same day must not change a byte"


def test_an_older_day_does_not_replace_latest(settings: Settings, store: ObjectStore, sources: Path) -> None:
    stages.ingest(store, settings, "run-1")
    stages.publish_daily_digest(store, settings, SEED_DAY)
    stages.publish_daily_digest(store, settings, date(2024, 1, 6))
    assert b"2024-01-07" in store.get_bytes("digests/latest.json")
    assert b"No articles for 2024-01-06." in store.get_bytes("digests/2024-01-06/digest.html")


def test_inbox_documents_are_ingested_once_and_moved(settings: Settings, store: ObjectStore) -> None:
    settings.sources_file.write_text("")
    store.put_bytes("inbox/kamikawa.txt", (DOCUMENTS / "seed-kamikawa.txt").read_bytes())
    store.put_bytes("inbox/undated.txt", (DOCUMENTS / "no-date-header.txt").read_bytes())
    store.put_bytes("inbox/folder/ignored.txt", b"date 2024-01-01 not the inbox itself")

    _, report = stages.ingest(store, settings, "run-1")
    [inbox] = report.sources
    assert (inbox.source, inbox.read, inbox.stored, inbox.quarantined) == ("inbox", 2, 1, 1)
    assert len(list(store.list_keys(f"articles/date={SEED_DAY}/"))) == 1
    folder, *processed = sorted(store.list_keys("inbox/"))
    assert folder == "inbox/folder/ignored.txt"
    # Stored straight from the inbox (no trigger claimed them): the time in front of each name.
    assert [re.sub(r"/\d{8}T\d{6}Z-", "/{time}-", k) for k in processed] == [
        "inbox/processed/{time}-kamikawa.txt",
        "inbox/processed/{time}-undated.txt",
    ]
    _, again = stages.ingest(store, settings, "run-2")
    assert (again.read, again.stored) == (0, 0)


def test_two_documents_of_one_name_are_both_claimed_ingested_and_kept(settings: Settings, store: ObjectStore) -> None:
    settings.sources_file.write_text("")
    seed, other, third = (
        (DOCUMENTS / name).read_bytes() for name in ("seed-kamikawa.txt", "lead-on-second-line.txt", "long-lead.txt")
    )
    claimed_at = datetime(2024, 3, 2, 9, 0, tzinfo=UTC)
    store.put_bytes("inbox/story.txt", seed)
    [first] = claim_new_documents(store, "inbox/", claimed_at)
    store.put_bytes("inbox/story.txt", other)  # the same name, before the first is stored
    [second] = claim_new_documents(store, "inbox/", claimed_at)  # even in the same second: its ETag differs
    assert re.fullmatch(r"inbox/pending/20240302T090000Z-[0-9a-f]{8}-story\.txt", first) and second != first
    assert sorted(store.list_keys("inbox/")) == sorted([first, second])
    assert (store.get_bytes(first), store.get_bytes(second)) == (seed, other)
    assert claim_new_documents(store, "inbox/") == []  # claimed once: no second event

    _, report = stages.ingest(store, settings, "run-1")
    [inbox] = report.sources
    assert (inbox.read, inbox.stored, inbox.quarantined) == (2, 2, 0)
    assert {k.split("/")[1] for k in store.list_keys("articles/")} == {"date=2024-01-07", "date=2024-03-01"}
    processed = sorted(store.list_keys("inbox/processed/"))
    assert processed == sorted(k.replace("/pending/", "/processed/") for k in (first, second))
    assert sorted(store.get_bytes(k) for k in processed) == sorted([seed, other])

    # A third of that name, stored straight from the inbox, replaces neither in processed/.
    store.put_bytes("inbox/story.txt", third)
    _, report = stages.ingest(store, settings, "run-2")
    assert (report.read, report.stored) == (1, 1)
    assert sorted(store.get_bytes(k) for k in store.list_keys("inbox/processed/")) == sorted([seed, other, third])
    assert list(store.list_keys("inbox/pending/")) == []


def test_oversized_document_is_quarantined_unread(settings: Settings, store: ObjectStore, sources: Path) -> None:
    capped = settings.model_copy(update={"fetch_max_bytes": 500})
    _, report = stages.ingest(store, capped, "run-1")
    [seeds] = [r for r in report.sources if r.source == "seeds"]
    assert (seeds.read, seeds.stored, seeds.quarantined) == (2, 0, 2)
    reasons = [json.loads(store.get_bytes(k))["reason"] for k in store.list_keys("quarantine/")]
    size = (DOCUMENTS / "seed-kamikawa.txt").stat().st_size
    assert f"document 'seed-kamikawa.txt' has {size} bytes, more than the 500 allowed" in reasons
    assert len(list(store.list_keys("raw/"))) == 1, "only the small document was read and archived"
