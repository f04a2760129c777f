"""Stories and near-duplicates across sources, shards, runs and days, with the index in the real bucket."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from pipeline import stages
from pipeline.enrich import Enricher
from pipeline.models import Article, StageResult
from pipeline.settings import Settings
from pipeline.storage import ObjectStore, article_key, staging_key, story_index_key
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


def _stage(store: ObjectStore, run_id: str, source: str, articles: list[Article]) -> StageResult:
    key = staging_key(run_id, "enriched", source)
    stages._write_jsonl(store, key, articles)
    return StageResult(source=source, run_id=run_id, staging_key=key)


def _stored(store: ObjectStore, article: Article) -> Article:
    return Article.model_validate_json(store.get_bytes(article_key(article.published_date, article.id)))


def test_parallel_shards_agree_on_one_story(store: ObjectStore) -> None:
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

    def store_shard(result: StageResult) -> None:
        start.wait()
        try:
            stages.store_source(store, result, window_days=7)
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


def test_stories_span_runs_and_days_within_the_window(store: ObjectStore) -> None:
    first = _case("quake-wire")
    stages.store_source(store, _stage(store, "run-1", "wire", [first]), window_days=7)
    later = _case("quake-copy", days_later=3)
    stages.store_source(store, _stage(store, "run-2", "asia", [later]), window_days=7)
    assert _stored(store, later).story_id == first.id
    assert _stored(store, later).duplicate_of == first.id
    too_late = _case("ecb-copy", days_later=0)
    stages.store_source(store, _stage(store, "run-3", "money", [too_late]), window_days=7)
    far = _case("ecb-wire", days_later=10)
    stages.store_source(store, _stage(store, "run-4", "wire", [far]), window_days=7)
    assert _stored(store, far).story_id == far.id  # ten days on, outside the window: a new story


def test_rerun_keeps_story_assignments_and_dry_run_writes_no_index(store: ObjectStore) -> None:
    wire, copy = _case("ecb-wire"), _case("ecb-copy")
    stages.store_source(store, _stage(store, "dry", "wire", [wire, copy]), window_days=7, dry_run=True)
    assert store.get_bytes_or_none(story_index_key(wire.published_date)) is None
    first = stages.store_source(store, _stage(store, "run-1", "wire", [wire, copy]), window_days=7)
    etag = store.etag(story_index_key(wire.published_date))
    again = stages.store_source(store, _stage(store, "run-2", "wire", [wire, copy]), window_days=7)
    assert (first.stored, again.stored, again.unchanged) == (2, 0, 2)
    assert store.etag(story_index_key(wire.published_date)) == etag
    assert _stored(store, copy).duplicate_of == wire.id


def test_unchanged_content_is_not_enriched_again(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [_case("nato-summit"), _case("court-ruling")]
    enriched = stages.enrich_source(store, settings, _stage_normalised(store, "run-1", articles))
    stages.store_source(store, enriched, window_days=7)
    seen: list[int] = []
    real = Enricher.enrich

    def counting(self: Enricher, batch: Any) -> list[Article]:
        seen.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(Enricher, "enrich", counting)
    changed = articles[1].model_copy(update={"content_hash": "0" * 64, "title": "EU court upholds Google fine"})
    again = stages.enrich_source(store, settings, _stage_normalised(store, "run-2", [articles[0], changed]))
    assert seen == [1], "only the changed article is enriched"
    [kept, redone] = stages._read_jsonl(store, again.staging_key or "")
    assert kept.entities == _stored(store, articles[0]).entities and redone.enrichment


def _stage_normalised(store: ObjectStore, run_id: str, articles: list[Article]) -> StageResult:
    key = staging_key(run_id, "normalised", "wire")
    stages._write_jsonl(store, key, articles)
    return StageResult(source="wire", run_id=run_id, staging_key=key)


def test_reenrich_rewrites_only_changed_enrichment(settings: Settings, store: ObjectStore) -> None:
    article = _case("bank-merger")
    enriched = stages.enrich_source(store, settings, _stage_normalised(store, "run-1", [article]))
    stages.store_source(store, enriched, window_days=7)
    key = article_key(article.published_date, article.id)
    before = _stored(store, article)
    assert stages.reenrich(store, settings, article.published_date) == {"read": 1, "changed": 0}
    stale = before.model_copy(update={"keywords": [], "enrichment": before.enrichment | {"keywords": "rules-0"}})
    store.put_bytes(key, stages._article_bytes(stale), "application/json")
    assert stages.reenrich(store, settings, article.published_date) == {"read": 1, "changed": 1}
    after = _stored(store, article)
    assert after == before  # same keywords, provenance, story and revision as the first enrichment
