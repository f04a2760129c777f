"""The Parquet lake: daily compaction of articles into `lake/articles/date=…/`, and SQL over it with DuckDB."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs

from pipeline.models import Article
from pipeline.storage.keys import LAKE_PREFIX, lake_key
from pipeline.storage.store import ObjectStore, S3Config

__all__ = ["ARTICLES_SCHEMA", "articles_table", "compact_day", "query_lake"]

_SECTION = pa.struct([("heading", pa.string()), ("paragraphs", pa.list_(pa.string()))])
_MENTION = pa.struct([("text", pa.string()), ("start", pa.int32()), ("end", pa.int32())])
_ENTITY = pa.struct(
    [
        ("name", pa.string()),
        ("type", pa.string()),
        ("country", pa.string()),
        ("count", pa.int32()),
        ("mentions", pa.list_(_MENTION)),
    ]
)
_QUOTE = pa.struct(
    [
        ("text", pa.string()),
        ("speaker", pa.string()),
        ("direct", pa.bool_()),
        ("start", pa.int32()),
        ("end", pa.int32()),
    ]
)
_UTC = pa.timestamp("us", tz="UTC")
# One schema for every day, so readers (DuckDB, Athena, Spark) never see a column change type between files.
ARTICLES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("schema_version", pa.int16()),
        ("source", pa.string()),
        ("source_name", pa.string()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("title", pa.string()),
        ("title_derived", pa.bool_()),
        ("lead", pa.string()),
        ("text", pa.string()),
        ("text_source", pa.string()),
        ("sections", pa.list_(_SECTION)),
        ("published_at", _UTC),
        ("published_date", pa.date32()),
        ("date_source", pa.string()),
        ("date_flagged", pa.bool_()),
        ("fetched_at", _UTC),
        ("authors", pa.list_(pa.string())),
        ("categories", pa.list_(pa.string())),
        ("image_url", pa.string()),
        ("language", pa.string()),
        ("language_confidence", pa.float64()),
        ("summary", pa.string()),
        ("entities", pa.list_(_ENTITY)),
        ("quotes", pa.list_(_QUOTE)),
        ("keywords", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("enrichment", pa.map_(pa.string(), pa.string())),
        ("content_hash", pa.string()),
        ("raw_key", pa.string()),
        ("revision", pa.int32()),
        ("story_id", pa.string()),
        ("duplicate_of", pa.string()),
    ]
)


def articles_table(articles: Iterable[Article]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for article in sorted(articles, key=lambda a: a.id):
        row = article.model_dump(mode="python", exclude={"html"})
        row["enrichment"] = sorted(row["enrichment"].items())  # a Parquet map is a list of pairs
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=ARTICLES_SCHEMA)


def compact_day(store: ObjectStore, day: date, articles: Iterable[Article]) -> str | None:
    """Write the day's articles as one Parquet file (same articles, same bytes); None for an empty day."""
    table = articles_table(articles)
    key = lake_key(day)
    if table.num_rows == 0:
        store.delete(key)
        return None
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    store.put_if_changed(key, sink.getvalue().to_pybytes(), "application/vnd.apache.parquet")
    return key


def _filesystem(config: S3Config) -> fs.S3FileSystem:
    endpoint = config.endpoint_url or ""
    scheme, _, host = endpoint.partition("://")
    return fs.S3FileSystem(
        access_key=config.access_key_id,
        secret_key=config.secret_access_key.get_secret_value(),
        region=config.region,
        endpoint_override=host or None,
        scheme=scheme or "https",
    )


def query_lake(config: S3Config, bucket: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run `sql` over table `articles` (the whole lake) with DuckDB; return column names and rows.

    pyarrow reads the Parquet files from the same endpoint with the same credentials, so DuckDB needs no
    extension downloaded at run time.
    """
    partition = pa.schema([("date", pa.date32())])
    dataset = ds.dataset(
        f"{bucket}/{LAKE_PREFIX}",
        filesystem=_filesystem(config),
        format="parquet",
        partitioning=ds.partitioning(partition, flavor="hive"),
        schema=pa.unify_schemas([ARTICLES_SCHEMA, partition]),
    )
    with duckdb.connect() as connection:
        connection.register("articles", dataset)
        result = connection.execute(sql)
        columns = [d[0] for d in result.description or []]
        return columns, result.fetchall()
