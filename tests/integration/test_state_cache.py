"""Source states kept on disk by their ETag: a run with nothing due reads no state from the bucket, and a state
changed in the bucket (another machine's run) is read from the bucket, never from the stale copy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline import stages
from pipeline.models import SourceState
from pipeline.settings import Settings
from pipeline.sources.state import StateCache
from pipeline.storage.keys import STATE_PREFIX, state_key
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.rss import rss, rss_item
from tests.support.sources import register_feeds

SOURCES = ("a", "b", "c")


@pytest.fixture
def scheduled(settings: Settings, store: ObjectStore, feed_server: FeedServer) -> Settings:
    """Three feeds ingested once under the default poll schedule: none is due for five minutes."""
    scheduled = settings.model_copy(update={"poll_min_interval": 300.0, "poll_max_interval": 86400.0})
    for name in SOURCES:
        feed_server.routes[f"/{name}.xml"] = Route(body=rss(name, [rss_item(name, f"https://{name}.example/1")]))
    register_feeds(settings, feed_server, {name: f"/{name}.xml" for name in SOURCES})
    stages.ingest(store, scheduled, "run-1")
    return scheduled


def _state_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    get = ObjectStore.get_bytes_or_none

    def counted(self: ObjectStore, key: str) -> bytes | None:
        if key.startswith(STATE_PREFIX):
            reads.append(key)
        return get(self, key)

    monkeypatch.setattr(ObjectStore, "get_bytes_or_none", counted)
    return reads


def test_a_run_with_nothing_due_reads_no_state_from_the_bucket(
    scheduled: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _state_reads(monkeypatch)
    _, report = stages.ingest(store, scheduled, "run-2")
    not_due = {r.source: r for r in report.sources if r.not_due_until}
    assert set(not_due) >= set(SOURCES) and reads == []
    assert all(not r.backing_off and "poll schedule" in (r.not_due_reason or "") for r in not_due.values())


def test_a_state_changed_in_the_bucket_is_read_from_the_bucket(
    scheduled: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another machine's run moved "b"'s next poll into the past: this machine's copy on disk is stale.
    stored = SourceState.model_validate_json(store.get_bytes(state_key("b")))
    assert stored.next_attempt_at is not None
    store.put_bytes(
        state_key("b"),
        stored.model_copy(update={"next_attempt_at": stored.next_attempt_at - timedelta(days=1)})
        .model_dump_json()
        .encode(),
    )
    reads = _state_reads(monkeypatch)
    _, report = stages.ingest(store, scheduled, "run-2")
    polled = {r.source for r in report.sources if r.not_due_until is None}
    assert polled & set(SOURCES) == {"b"} and reads == [state_key("b")]


def test_a_copy_on_disk_that_does_not_hash_to_its_name_is_not_used(scheduled: Settings, store: ObjectStore) -> None:
    cache = StateCache.from_settings(scheduled)
    etags = dict(store.list_etags(STATE_PREFIX))
    path = cache.folder / f"{etags[state_key('a')]}.json"
    assert cache.get(etags[state_key("a")]) == store.get_bytes(state_key("a"))
    path.write_bytes(path.read_bytes().replace(b'"a"', b'"x"'))  # tampered with, or torn
    assert cache.get(etags[state_key("a")]) is None
    _, report = stages.ingest(store, scheduled, "run-2")
    assert {r.source for r in report.sources if r.not_due_until} >= set(SOURCES)  # read again from the bucket
    assert cache.get(etags[state_key("a")]) == store.get_bytes(state_key("a"))
