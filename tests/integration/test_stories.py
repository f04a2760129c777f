"""Stories and near-duplicates across sources, shards, runs and days, with the index in the real bucket."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from pipeline import stages
from pipeline.enrich import Enricher
from pipeline.models import Article, Digest, Enriched, Normalised
from pipeline.settings import Settings
from pipeline.stages.enrich import enrich_source
from pipeline.stages.handover import read_jsonl, write_jsonl
from pipeline.stages.store import article_bytes, store_source
from pipeline.storage.keys import article_key, digest_key, staging_key, story_index_key
from pipeline.storage.store import ObjectStore
from tests.support.articles import load_cases, to_article

CASES = {c["id"]: c for c in load_cases()}


def _case(case_id: str, days_later: int = 0) -> Article:
    article = to_article(CASES[case_id])
    if days_later:
        shift = timedelta(days=days_later)
        article = article.model_copy(
            update={"published_at": article.published_at + shift, "published_date": article.published_date + shift}
        )
    return article


def _stage(store: ObjectStore, run_id: str, source: str, articles: list[Article]) -> Enriched:
    key = staging_key(run_id, "enriched", source)
    write_jsonl(store, key, articles)
    return Enriched(source=source, run_id=run_id, enriched_key=key)


def _stored(store: ObjectStore, article: Article) -> Article:
    return Article.model_validate_json(store.get_bytes(article_key(article.published_date, article.id)))


def test_parallel_shards_agree_on_one_story(settings: Settings, store: ObjectStore) -> None:
    wire, copy, rewrite, other = (
        _case(c) for c in ("port-strike-wire", "port-strike-copy", "port-strike-rewrite", "ecb-wire")
    )
    shards = [
        _stage(store, "run-1", "wire", [wire, other]),
        _stage(store, "run-1", "herald", [copy]),
        _stage(store, "run-1", "shipping", [rewrite]),
    ]
    start = threading.Barrier(len(shards))
    errors: list[BaseException] = []

    def store_shard(result: Enriched) -> None:
        start.wait()
        try:
            store_source(store, settings, result)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=store_shard, args=(r,)) for r in shards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = {a.id: _stored(store, a) for a in (wire, copy, rewrite, other)}
    stories = {stored[a.id].story_id for a in (wire, copy, rewrite)}
    assert len(stories) == 1, "copies and rewrites in parallel shards must share one story"
    assert stored[other.id].story_id == other.id
    [story] = stories
    # One of the three started the story; of the two near-identical copies, one points at the other.
    assert story in {wire.id, copy.id, rewrite.id}
    assert stored[rewrite.id].duplicate_of is None
    assert {stored[wire.id].duplicate_of, stored[copy.id].duplicate_of} in ({None, wire.id}, {None, copy.id})
    assert all("story" in a.enrichment for a in stored.values())
    assert store.get_bytes_or_none(story_index_key(wire.published_date)) is not None


def test_stories_span_runs_and_days_within_the_window(settings: Settings, store: ObjectStore) -> None:
    first = _case("quake-wire")
    store_source(store, settings, _stage(store, "run-1", "wire", [first]))
    later = _case("quake-copy", days_later=3)
    store_source(store, settings, _stage(store, "run-2", "asia", [later]))
    assert _stored(store, later).story_id == first.id
    assert _stored(store, later).duplicate_of == first.id
    too_late = _case("ecb-copy", days_later=0)
    store_source(store, settings, _stage(store, "run-3", "money", [too_late]))
    far = _case("ecb-wire", days_later=10)
    store_source(store, settings, _stage(store, "run-4", "wire", [far]))
    assert _stored(store, far).story_id == far.id  # ten days on, outside the window: a new story


def test_rerun_keeps_story_assignments_and_dry_run_writes_no_index(settings: Settings, store: ObjectStore) -> None:
    wire, copy = _case("ecb-wire"), _case("ecb-copy")
    store_source(store, settings, _stage(store, "dry", "wire", [wire, copy]), dry_run=True)
    assert store.get_bytes_or_none(story_index_key(wire.published_date)) is None
    first = store_source(store, settings, _stage(store, "run-1", "wire", [wire, copy]))
    etag = store.etag(story_index_key(wire.published_date))
    again = store_source(store, settings, _stage(store, "run-2", "wire", [wire, copy]))
    assert (first.stored, again.stored, again.duplicates) == (2, 0, 2)
    assert store.etag(story_index_key(wire.published_date)) == etag
    assert _stored(store, copy).duplicate_of == wire.id


def test_unchanged_content_is_not_enriched_again(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [_case("nato-summit"), _case("court-ruling")]
    enriched = enrich_source(store, settings, _stage_normalised(store, "run-1", articles))
    store_source(store, settings, enriched)
    seen: list[int] = []
    real = Enricher.enrich

    def counting(self: Enricher, batch: Any) -> list[Article]:
        seen.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(Enricher, "enrich", counting)
    changed = articles[1].model_copy(update={"content_hash": "0" * 64, "title": "EU court upholds Google fine"})
    again = enrich_source(store, settings, _stage_normalised(store, "run-2", [articles[0], changed]))
    assert seen == [1], "only the changed article is enriched"
    [kept, redone] = read_jsonl(store, again.enriched_key or "")
    assert kept.entities == _stored(store, articles[0]).entities and redone.enrichment


def _stage_normalised(store: ObjectStore, run_id: str, articles: list[Article]) -> Normalised:
    key = staging_key(run_id, "normalised", "wire")
    write_jsonl(store, key, articles)
    return Normalised(source="wire", run_id=run_id, normalised_key=key)


def test_reenrich_rewrites_only_changed_enrichment(settings: Settings, store: ObjectStore) -> None:
    article = _case("bank-merger")
    enriched = enrich_source(store, settings, _stage_normalised(store, "run-1", [article]))
    store_source(store, settings, enriched)
    key = article_key(article.published_date, article.id)
    before = _stored(store, article)
    assert stages.reenrich(store, settings, article.published_date) == {"read": 1, "changed": 0}
    stale = before.model_copy(update={"keywords": [], "enrichment": before.enrichment | {"keywords": "rules-0"}})
    store.put_bytes(key, article_bytes(stale), "application/json")
    assert stages.reenrich(store, settings, article.published_date) == {"read": 1, "changed": 1}
    after = _stored(store, article)
    assert after == before  # same keywords, provenance, story and revision as the first enrichment


def test_digest_shows_a_story_across_days_from_the_index(settings: Settings, store: ObjectStore) -> None:
    first = _case("quake-wire")
    store_source(store, settings, _stage(store, "run-1", "wire", [first]))
    later = _case("quake-copy", days_later=1)
    store_source(store, settings, _stage(store, "run-2", "asia", [later]))
    stages.publish_daily_digest(store, settings, later.published_date)
    digest = Digest.model_validate_json(store.get_bytes(digest_key(later.published_date, "json")))
    [story] = [s for s in digest.stories if s.story_id == first.id]
    assert [d.day for d in story.timeline] == [first.published_date, later.published_date]
    assert story.coverage is not None and story.coverage.copies == 1


def test_an_index_written_before_event_stories_keeps_its_places(settings: Settings, store: ObjectStore) -> None:
    """A day object with only the copy columns: its articles keep their stories and copies are still found."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.enrich.dedup import signature
    from pipeline.stories import assign_stories

    wire, copy = _case("quake-wire"), _case("quake-copy")
    old = pa.table(
        {
            "article_id": [wire.id],
            "content_hash": [wire.content_hash],
            "story_id": [wire.id],
            "duplicate_of": pa.array([None], pa.string()),
            "hashvalues": [signature(wire.title, wire.text).tobytes()],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(old, buffer)
    key = story_index_key(wire.published_date)
    store.put_bytes(key, buffer.getvalue(), "application/vnd.apache.parquet")
    [placed] = assign_stories(store, [copy], settings.story_window_days)
    assert (placed.story_id, placed.duplicate_of) == (wire.id, wire.id)
    table = pq.read_table(io.BytesIO(store.get_bytes(key)))
    assert table.column("article_id").to_pylist() == [wire.id, copy.id]
    assert table.column("source").to_pylist() == [None, copy.source]
