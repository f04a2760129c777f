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

from pipeline.enrich.dedup import DEDUP_VERSION, HASH_DTYPE, CopyIndex, Signed
from pipeline.enrich.events import EVENT_VERSION, EventIndex, Features, Member, Placement, place_articles
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
_Day = tuple[list[Signed], list[Member], dict[str, str], str | None]  # ..., article id -> source, ETag


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
        _, members, sources, _ = _load(store, day)
        records += [
            StoryRecord(
                m.article_id, m.story_id, sources.get(m.article_id, ""), datetime.fromtimestamp(m.published_at, UTC)
            )
            for m in members
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
        copies = CopyIndex(s for signed, _, _, _ in by_day.values() for s in signed)
        events = EventIndex(m for _, members, _, _ in by_day.values() for m in members)
        new = [a for a in articles if a.id not in events]
        placed = place_articles(copies, events, new)
        added: dict[date, list[tuple[Signed, Member, str]]] = {}
        for article in new:
            row = (_known(copies.get(article.id)), _known(events.get(article.id)), article.source)
            added.setdefault(article.published_date, []).append(row)
        if all(_commit(store, day, by_day[day], rows) for day, rows in sorted(added.items())):
            return [_with_story(a, placed.get(a.id) or _placement(copies, events, a.id)) for a in articles]
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
        return [], [], {}, None
    data, etag = found
    table = pq.read_table(io.BytesIO(data))
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    rows = len(table)
    # An index written before event stories has no features: its articles keep their stories and copies.
    empty = [None] * rows
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    signed, members = [], []
    sources = dict(zip(columns["article_id"], columns.get("source") or [""] * rows, strict=True))
    for i in range(rows):
        article_id, story_id = columns["article_id"][i], columns["story_id"][i]
        keys = (columns.get("feature_keys") or empty)[i]
        features = (
            Features(
                np.frombuffer(keys, dtype=np.uint64),
                np.frombuffer(columns["feature_weights"][i], dtype=np.float32),
                np.frombuffer(columns["feature_kinds"][i], dtype=np.uint8),
            )
            if keys
            else Features.empty()
        )
        when = (columns.get("published_at") or empty)[i]
        language = (columns.get("language") or empty)[i]
        event_day = (columns.get("event_day") or empty)[i] or 0
        hashes = np.frombuffer(columns["hashvalues"][i], dtype=HASH_DTYPE)
        signed.append(Signed(article_id, columns["content_hash"][i], columns["duplicate_of"][i], hashes))
        members.append(Member(article_id, story_id, midnight if when is None else when, language, features, event_day))
    return signed, members, sources, etag


def _commit(store: ObjectStore, day: date, loaded: _Day, new: list[tuple[Signed, Member, str]]) -> bool:
    signed, members, sources, etag = loaded
    old = [(s, m, sources.get(s.article_id) or "") for s, m in zip(signed, members, strict=True)]
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
        for s, m, source in sorted([*old, *new], key=lambda row: row[0].article_id)
    ]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMA), buffer, compression="zstd")
    key = story_index_key(day)
    if etag is None:
        return store.put_new(key, buffer.getvalue(), "application/vnd.apache.parquet")
    return store.replace(key, buffer.getvalue(), etag, "application/vnd.apache.parquet")


def _with_story(article: Article, placed: Placement) -> Article:
    enrichment = article.enrichment | {"story": STORY_VERSION}
    return article.model_copy(
        update={"story_id": placed.story_id, "duplicate_of": placed.duplicate_of, "enrichment": enrichment}
    )
