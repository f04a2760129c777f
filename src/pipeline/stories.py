"""Story placement against a rolling window kept in the bucket, one Parquet object per day.

Each row is one article: its MinHash signature (for copies) and its event features (for stories). Shards store
in parallel, so each day's object is updated with a conditional write; a writer that loses reloads the window
and places its articles again, now seeing the other shard's.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.enrich.dedup import DEDUP_VERSION, HASH_DTYPE, NUM_PERM, CopyIndex, Signed, SignedColumns
from pipeline.enrich.events import EVENT_VERSION, EventIndex, Member, MemberColumns, Placement, place_articles
from pipeline.errors import TransientStorageError
from pipeline.models import Article
from pipeline.storage.keys import story_index_key
from pipeline.storage.store import ObjectStore

__all__ = ["STORY_VERSION", "StoryRecord", "assign_stories", "load_story_records"]

STORY_VERSION = f"{EVENT_VERSION}+{DEDUP_VERSION}"
_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("source", pa.string()),
        ("content_hash", pa.string()),
        ("story_id", pa.string()),
        ("duplicate_of", pa.string()),
        ("hashvalues", pa.binary()),
        ("published_at", pa.float64()),
        ("language", pa.string()),
        ("feature_keys", pa.binary()),  # uint64, sorted
        ("feature_weights", pa.binary()),  # float32
        ("feature_kinds", pa.binary()),  # one byte per feature: events.KIND_CODES
        ("event_day", pa.int32()),  # proleptic ordinal of the day the article says its event happened, 0 if none
    ]
)
_T = TypeVar("_T")
_Day = tuple[pa.Table | None, str | None]  # the day's rows as stored, and their ETag
_Row = tuple[Signed, Member, str]  # a new article's row: its signature, its place, its source


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """An article as the story index keeps it: enough for a story's timeline."""

    article_id: str
    story_id: str
    source: str
    published_at: datetime


def load_story_records(store: ObjectStore, days: Iterable[date]) -> list[StoryRecord]:
    """The articles the story index holds for `days`."""
    records = []
    for day in days:
        table, _ = _load(store, day)
        if table is None:
            continue
        ids, stories = _known_strings(table, "article_id"), _known_strings(table, "story_id")
        sources, times = _strings(table, "source"), _published_at(table, day)
        records += [
            StoryRecord(ids[i], stories[i], sources[i] or "", datetime.fromtimestamp(times[i], UTC))
            for i in range(len(ids))
        ]
    return records


def assign_stories(
    store: ObjectStore, articles: Sequence[Article], window_days: int, attempts: int = 8
) -> list[Article]:
    """Return the articles with `story_id` and `duplicate_of` set, and record them in the day indexes."""
    if not articles:
        return []
    days = {a.published_date for a in articles}
    window = _window(days, window_days)
    for _ in range(attempts):
        by_day = {day: _load(store, day) for day in window}
        stored = [(day, table) for day, (table, _) in by_day.items() if table is not None]
        copies, events = CopyIndex(), EventIndex()
        for _, table in stored:
            copies.load(_signed_columns(table))
        events.load(_member_columns(table, day) for day, table in stored)
        new = [a for a in articles if a.id not in events]
        placed = place_articles(copies, events, new)
        added: dict[date, list[_Row]] = {}
        for article in new:
            row = (_known(copies.get(article.id)), _known(events.get(article.id)), article.source)
            added.setdefault(article.published_date, []).append(row)
        placements = [placed.get(a.id) or _placement(copies, events, a.id) for a in articles]
        del copies, events  # the window's index: not needed while the day objects are written
        if all(_commit(store, day, *by_day[day], rows) for day, rows in sorted(added.items())):
            return [_with_story(a, p) for a, p in zip(articles, placements, strict=True)]
    raise TransientStorageError(f"story index still changing after {attempts} conditional writes")


def _known(value: _T | None) -> _T:
    assert value is not None
    return value


def _placement(copies: CopyIndex, events: EventIndex, article_id: str) -> Placement:
    return Placement(_known(events.get(article_id)).story_id, _known(copies.get(article_id)).duplicate_of)


def _window(days: set[date], window_days: int) -> list[date]:
    # Later days count too: a backfilled day's articles may have been copied by ones already stored.
    first, last = min(days) - timedelta(days=window_days), max(days) + timedelta(days=window_days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _load(store: ObjectStore, day: date) -> _Day:
    found = store.get_with_etag(story_index_key(day))
    if found is None:
        return None, None
    data, etag = found
    return _upgraded(pq.read_table(io.BytesIO(data))), etag


def _upgraded(table: pa.Table) -> pa.Table:
    """The table in the current schema, each column in one chunk. An index written before event stories has no
    features, times or sources: their columns are null and its articles keep their stories and copies."""
    columns = [
        table.column(field.name).combine_chunks().cast(field.type)
        if field.name in table.column_names
        else pa.nulls(len(table), field.type)
        for field in _SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=_SCHEMA)


def _strings(table: pa.Table, name: str) -> list[str | None]:
    values: list[str | None] = table.column(name).to_pylist()
    return values


def _published_at(table: pa.Table, day: date) -> np.ndarray:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    return np.asarray(table.column("published_at").fill_null(midnight).to_numpy(), dtype=np.float64)


def _packed(table: pa.Table, name: str, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """A binary column of packed `dtype` values: all rows' values end to end (the Arrow buffer itself, not
    copied) and where each row's begin and end, in values."""
    column = table.column(name).chunk(0) if table.column(name).num_chunks else pa.array([], pa.binary())
    width = np.dtype(dtype).itemsize
    _, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int32)[column.offset : column.offset + len(column) + 1]
    if data_buffer is None or not len(offsets) or offsets[-1] == offsets[0]:
        return np.empty(0, dtype), np.zeros(len(column) + 1, np.int64)
    values: np.ndarray = np.frombuffer(
        data_buffer, dtype, count=(int(offsets[-1]) - int(offsets[0])) // width, offset=int(offsets[0])
    )
    return values, (offsets.astype(np.int64) - int(offsets[0])) // width


def _signed_columns(table: pa.Table) -> SignedColumns:
    hashes, _ = _packed(table, "hashvalues", HASH_DTYPE)
    return SignedColumns(
        _known_strings(table, "article_id"),
        _known_strings(table, "content_hash"),
        _strings(table, "duplicate_of"),
        hashes.reshape(len(table), NUM_PERM),
    )


def _known_strings(table: pa.Table, name: str) -> list[str]:
    return [value or "" for value in _strings(table, name)]


def _member_columns(table: pa.Table, day: date) -> MemberColumns:
    keys, bounds = _packed(table, "feature_keys", np.uint64)
    weights, _ = _packed(table, "feature_weights", np.float32)
    kinds, _ = _packed(table, "feature_kinds", np.uint8)
    return MemberColumns(
        _known_strings(table, "article_id"),
        _known_strings(table, "story_id"),
        _published_at(table, day),
        _strings(table, "language"),
        np.asarray(table.column("event_day").fill_null(0).to_numpy(), dtype=np.int64),
        keys,
        weights,
        kinds,
        bounds,
    )


def _commit(store: ObjectStore, day: date, loaded: pa.Table | None, etag: str | None, new: list[_Row]) -> bool:
    """Write the day's object with `new` rows after the stored ones, if nobody wrote it since it was read."""
    rows = [
        {
            "article_id": s.article_id,
            "source": source,
            "content_hash": s.content_hash,
            "story_id": m.story_id,
            "duplicate_of": s.duplicate_of,
            "hashvalues": s.hashvalues.astype(HASH_DTYPE).tobytes(),
            "published_at": m.published_at,
            "language": m.language,
            "feature_keys": m.features.keys.astype(np.uint64).tobytes(),
            "feature_weights": m.features.weights.astype(np.float32).tobytes(),
            "feature_kinds": m.features.kinds.astype(np.uint8).tobytes(),
            "event_day": m.day,
        }
        for s, m, source in sorted(new, key=lambda row: row[0].article_id)
    ]
    added = pa.Table.from_pylist(rows, schema=_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(added if loaded is None else pa.concat_tables([loaded, added]), buffer, compression="zstd")
    key = story_index_key(day)
    if etag is None:
        return store.put_new(key, buffer.getvalue(), "application/vnd.apache.parquet")
    return store.replace(key, buffer.getvalue(), etag, "application/vnd.apache.parquet")


def _with_story(article: Article, placed: Placement) -> Article:
    enrichment = article.enrichment | {"story": STORY_VERSION}
    return article.model_copy(
        update={"story_id": placed.story_id, "duplicate_of": placed.duplicate_of, "enrichment": enrichment}
    )
