"""The news lake against the real SeaweedFS: conditional writes, pagination, replay, Parquet + DuckDB, retention."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from pipeline import stages
from pipeline.lake import query_lake
from pipeline.models import Article
from pipeline.settings import Settings
from pipeline.stages.store import write_article
from pipeline.storage.keys import article_key, lake_key
from pipeline.storage.store import ObjectStore, S3Config
from tests.support.articles import make_article
from tests.support.sources import SEED_DAY, seed_documents


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed_documents(settings, "seed-kamikawa.txt", "lead-on-second-line.txt", "no-date-header.txt")
    return settings


def test_concurrent_writers_of_the_same_article_keep_one_copy(store: ObjectStore) -> None:
    article = make_article(1)
    key = article_key(article.published_date, article.id)
    with ThreadPoolExecutor(8) as pool:
        wrote = list(pool.map(lambda _: write_article(store, key, article), range(8)))
    assert wrote.count(True) == 1
    assert Article.model_validate_json(store.get_bytes(key)).revision == 1


def test_concurrent_writers_of_new_versions_lose_no_revision(store: ObjectStore) -> None:
    versions = [make_article(1).model_copy(update={"content_hash": f"{n:064x}", "title": f"v{n}"}) for n in range(6)]
    key = article_key(versions[0].published_date, versions[0].id)
    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(lambda a: write_article(store, key, a), versions))
    final = Article.model_validate_json(store.get_bytes(key))
    assert final.revision == 6, "every accepted write bumped the revision exactly once"
    assert list(store.list_keys("articles/")) == [key]


def test_listing_paginates_over_thousands_of_keys(store: ObjectStore) -> None:
    keys = [f"many/{n:05d}.txt" for n in range(2500)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: store.put_bytes(k, b"x"), keys))
    assert list(store.list_keys("many/")) == keys
    store.delete_many(keys)
    assert list(store.list_keys("many/")) == []


def test_large_objects_go_up_in_parts(store: ObjectStore) -> None:
    data = bytes(range(256)) * (80 * 1024)  # 20 MiB, over the multipart threshold
    store.put_bytes("big/blob.bin", data)
    assert store.get_bytes("big/blob.bin") == data
    assert "-" in (store.etag("big/blob.bin") or ""), "a multipart upload's ETag names its part count"


def test_replay_rebuilds_byte_identical_articles(seeded: Settings, store: ObjectStore) -> None:
    stages.ingest(store, seeded, "run-1")
    originals = {k: store.get_bytes(k) for k in store.list_keys("articles/")}
    quarantined = sorted(store.list_keys("quarantine/"))
    assert len(originals) == 2
    store.delete_many(list(originals))

    [raw_day] = {date(*map(int, k.split("/")[2:5])) for k in store.list_keys("raw/")}
    _, report = stages.replay(store, seeded, raw_day, ["seeds"])
    assert (report.read, report.stored, report.quarantined) == (3, 2, 1)
    assert {k: store.get_bytes(k) for k in store.list_keys("articles/")} == originals
    assert sorted(store.list_keys("quarantine/")) == quarantined


def test_lake_is_queryable_with_duckdb(seeded: Settings, store: ObjectStore) -> None:
    stages.ingest(store, seeded, "run-1")
    days = sorted({date.fromisoformat(k.split("date=")[1].split("/")[0]) for k in store.list_keys("articles/")})
    keys = [stages.compact_lake(store, day) for day in days]
    assert keys == [lake_key(day) for day in days]
    etags = [store.etag(k) for k in keys if k]
    assert [store.etag(k) for k in (stages.compact_lake(store, day) for day in days) if k] == etags

    columns, rows = query_lake(
        S3Config.from_settings(seeded),
        seeded.bucket,
        "select source, count(*) as n, min(title) from articles group by 1",
    )
    assert columns == ["source", "n", "min(title)"]
    assert rows == [
        (
            "seeds",
            2,
            "Foreign Minister Yoko Kamikawa promised to continue Japan's support for Ukraine during her visit to Kyiv",
        )
    ]
    _, dated = query_lake(
        S3Config.from_settings(seeded),
        seeded.bucket,
        "select id, len(sections) from articles where date = '2024-01-07'",
    )
    assert [n for _, n in dated] == [4]
    # Enrichment survives compaction as typed, nested columns.
    _, people = query_lake(
        S3Config.from_settings(seeded),
        seeded.bucket,
        "select e.name, e.count, len(e.mentions) from (select unnest(entities) as e from articles"
        " where date = '2024-01-07') where e.type = 'person' order by 1",
    )
    assert people == [("Dmytro Kuleba", 2, 2), ("Yoko Kamikawa", 3, 3)]
    _, speakers = query_lake(
        S3Config.from_settings(seeded),
        seeded.bucket,
        "select q.speaker, enrichment['quotes'] from (select unnest(quotes) as q, enrichment from articles"
        " where date = '2024-01-07') order by q.start",
    )
    assert [s for s, _ in speakers] == ["Yoko Kamikawa", "Dmytro Kuleba"]
    assert all(made_by for _, made_by in speakers)


def test_news_query_command(seeded: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pipeline import cli

    stages.ingest(store, seeded, "run-1")
    stages.compact_lake(store, SEED_DAY)
    monkeypatch.setattr(cli, "get_settings", lambda: seeded)
    result = CliRunner().invoke(cli.app, ["query", "select source, count(*) from articles group by 1"])
    assert result.exit_code == 0, result.output
    assert "seeds" in result.output and "│ 1" in result.output


def test_retention_deletes_only_what_is_older(seeded: Settings, store: ObjectStore) -> None:
    for day in ("2024/01/01", "2024/03/01"):
        store.put_bytes(f"raw/seeds/{day}/20240101T000000Z-abc.txt", b"x")
    store.put_bytes("quarantine/2024-01-01/seeds/abc.json", b"{}")
    store.put_bytes("quarantine/2024-03-01/seeds/def.json", b"{}")
    assert stages.apply_retention(store, seeded, date(2024, 3, 2)) == {"raw": 0, "quarantine": 0}

    keep_30 = seeded.model_copy(update={"raw_retention_days": 30, "quarantine_retention_days": 30})
    assert stages.apply_retention(store, keep_30, date(2024, 3, 2)) == {"raw": 1, "quarantine": 1}
    assert list(store.list_keys("raw/")) == ["raw/seeds/2024/03/01/20240101T000000Z-abc.txt"]
    assert list(store.list_keys("quarantine/")) == ["quarantine/2024-03-01/seeds/def.json"]


def test_run_report_is_a_manifest(seeded: Settings, store: ObjectStore) -> None:
    key, _ = stages.ingest(store, seeded, "run-1", force=True)
    report = json.loads(store.get_bytes(key))
    assert report["params"] == {"sources": [], "force_refetch": True, "dry_run": False}
    assert report["duration_s"] is not None and report["started_at"] <= report["finished_at"]
    [seeds] = [s for s in report["sources"] if s["source"] == "seeds"]
    assert set(seeds["durations"]) == {"fetch", "normalise", "enrich", "store"}
    assert len(seeds["raw_keys"]) == 3 and len(seeds["article_keys"]) == 2


def test_read_ahead_keeps_order_and_reads_only_a_few_ahead(store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [f"raw/ahead/{n:02d}.txt" for n in range(20)]
    for n, key in enumerate(keys):
        store.put_bytes(key, f"payload {n}".encode(), "text/plain")
    requested: list[str] = []
    real = store.get_object
    monkeypatch.setattr(store, "get_object", lambda key: requested.append(key) or real(key))
    objects = store.read_ahead(iter(keys), ahead=3)
    assert next(objects).data == b"payload 0"
    assert len(requested) <= 4  # the first and at most three more: never the whole batch in memory
    assert [o.data for o in objects] == [f"payload {n}".encode() for n in range(1, 20)]
    assert sorted(requested) == keys
