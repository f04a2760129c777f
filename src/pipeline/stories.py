"""Story assignment against a rolling window of MinHash signatures kept in the bucket, one object per day.

Shards store in parallel, so each day's object is updated with a conditional write; a writer that loses
reloads the window and places its articles again, now seeing the other shard's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.enrich.dedup import DEDUP_VERSION, HASH_DTYPE, Signed, StoryIndex, signature
from pipeline.errors import TransientStorageError
from pipeline.models import Article
from pipeline.storage.keys import story_index_key
from pipeline.storage.store import ObjectStore

__all__ = ["assign_stories"]

_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("content_hash", pa.string()),
        ("story_id", pa.string()),
        ("duplicate_of", pa.string()),
        ("hashvalues", pa.binary()),
    ]
)


def assign_stories(
    store: ObjectStore, articles: Sequence[Article], window_days: int, attempts: int = 8
) -> list[Article]:
    """Return the articles with `story_id` and `duplicate_of` set, and record them in the day indexes."""
    if not articles:
        return []
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id))  # the earliest report starts a story
    signatures = {a.id: signature(a.title, a.text) for a in ordered}
    days = {a.published_date for a in ordered}
    window = _window(days, window_days)
    for _ in range(attempts):
        by_day = {day: _load(store, day) for day in window}
        index = StoryIndex(m for members, _ in by_day.values() for m in members)
        added: dict[date, list[Signed]] = {}
        for article in ordered:
            if article.id not in index:
                placed = index.assign(article.id, article.content_hash, signatures[article.id])
                added.setdefault(article.published_date, []).append(placed)
        if all(_commit(store, day, by_day[day], new) for day, new in sorted(added.items())):
            return [_with_story(a, index.get(a.id)) for a in articles]
    raise TransientStorageError(f"story index still changing after {attempts} conditional writes")


def _window(days: set[date], window_days: int) -> list[date]:
    # Later days count too: a backfilled day's articles may have been copied by ones already stored.
    first, last = min(days) - timedelta(days=window_days), max(days) + timedelta(days=window_days)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _load(store: ObjectStore, day: date) -> tuple[list[Signed], str | None]:
    found = store.get_with_etag(story_index_key(day))
    if found is None:
        return [], None
    data, etag = found
    table = pq.read_table(io.BytesIO(data))
    members = [
        Signed(
            row["article_id"],
            row["content_hash"],
            row["story_id"],
            row["duplicate_of"],
            np.frombuffer(row["hashvalues"], dtype=HASH_DTYPE),
        )
        for row in table.to_pylist()
    ]
    return members, etag


def _commit(store: ObjectStore, day: date, loaded: tuple[list[Signed], str | None], new: list[Signed]) -> bool:
    members, etag = loaded
    rows = [
        {
            "article_id": m.article_id,
            "content_hash": m.content_hash,
            "story_id": m.story_id,
            "duplicate_of": m.duplicate_of,
            "hashvalues": m.hashvalues.astype(HASH_DTYPE).tobytes(),
        }
        for m in sorted([*members, *new], key=lambda m: m.article_id)
    ]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMA), buffer, compression="zstd")
    key = story_index_key(day)
    if etag is None:
        return store.put_new(key, buffer.getvalue(), "application/vnd.apache.parquet")
    return store.replace(key, buffer.getvalue(), etag, "application/vnd.apache.parquet")


def _with_story(article: Article, placed: Signed | None) -> Article:
    assert placed is not None
    enrichment = article.enrichment | {"story": DEDUP_VERSION}
    return article.model_copy(
        update={"story_id": placed.story_id, "duplicate_of": placed.duplicate_of, "enrichment": enrichment}
    )
