"""What stages hand each other: staged articles as JSON Lines, quarantine records, and the per-source runner."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from pipeline.errors import StorageError, describe
from pipeline.models import Article, QuarantineRecord, SourceProgress
from pipeline.storage.keys import quarantine_key
from pipeline.storage.store import ObjectStore

__all__ = [
    "advance",
    "archive_content_type",
    "archive_metadata",
    "archived_value",
    "for_each_source",
    "quarantine",
    "read_jsonl",
    "sha256_hex",
    "utc_now",
    "write_jsonl",
]

In = TypeVar("In", bound=SourceProgress)
Out = TypeVar("Out", bound=SourceProgress)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# S3 user metadata is ASCII and at most 2 KiB in all.
_METADATA_BUDGET = 1800


def archive_metadata(**values: str) -> dict[str, str] | None:
    """S3 metadata of an archived payload: where it came from (`url`) and, for a page, which item links to it.

    Non-ASCII values travel base64-encoded; None when the links are too long for S3 metadata.
    """
    metadata = {}
    for name, value in values.items():
        if value.isascii() and value.isprintable():
            metadata[name] = value
        else:
            metadata[f"{name}-b64"] = base64.urlsafe_b64encode(value.encode()).decode()
    return metadata if sum(len(k) + len(v) for k, v in metadata.items()) <= _METADATA_BUDGET else None


_CONTENT_TYPE = re.compile(r"^[\x20-\x7e]{1,200}$")


def archive_content_type(value: str | None, default: str) -> str:
    """A response's Content-Type as the archive's own: printable ASCII S3 accepts, else `default`."""
    value = (value or "").strip()
    return value if _CONTENT_TYPE.match(value) else default


def archived_value(metadata: dict[str, str], name: str) -> str | None:
    """A value `archive_metadata` stored."""
    if name in metadata:
        return metadata[name]
    encoded = metadata.get(f"{name}-b64")
    return base64.urlsafe_b64decode(encoded).decode(errors="replace") if encoded else None


def advance(previous: SourceProgress, result: type[Out], **produced: Any) -> Out:
    """The next stage's result for a source: what every stage carries forward, and what this one produced."""
    carried = {name: getattr(previous, name) for name in SourceProgress.model_fields}
    return result(**(carried | produced))


def for_each_source(
    results: list[In], stage_name: str, stage: Callable[[In], Out], skipped: type[Out], concurrency: int = 1
) -> list[Out]:
    """Apply one stage to every source still going, timing it per source; in order.

    A source that failed or was not due goes on as a `skipped` result, untouched.
    """

    def timed(result: In) -> Out:
        if not result.going:
            return advance(result, skipped)
        started = time.perf_counter()
        try:
            after = stage(result)
        except StorageError:
            raise  # the object store failed: the whole task fails and is retried
        except Exception as exc:  # this source alone fails; the others of the shard go on
            after = advance(result, skipped, error=f"{stage_name}: {describe(exc)}")
        elapsed = round(time.perf_counter() - started, 3)
        return after.model_copy(update={"durations": after.durations | {stage_name: elapsed}})

    if concurrency == 1:
        return [timed(r) for r in results]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(timed, results))


def write_jsonl(store: ObjectStore, key: str, articles: Iterable[Article]) -> None:
    body = "".join(a.model_dump_json() + "\n" for a in articles)
    store.put_bytes(key, body.encode(), "application/x-ndjson")


def read_jsonl(store: ObjectStore, key: str) -> Iterator[Article]:
    for line in store.get_bytes(key).decode().splitlines():
        if line:
            yield Article.model_validate_json(line)


def quarantine(
    store: ObjectStore,
    source: str,
    raw: str,
    payload_sha256: str,
    reason: str,
    when: datetime,
    index: int | None = None,
) -> str:
    """Record rejected input with its reason, keyed by its content so that re-runs converge."""
    identity = payload_sha256 if index is None else sha256_hex(f"{payload_sha256}#{index}".encode())
    key = quarantine_key(when.date(), source, identity)
    record = QuarantineRecord(source=source, raw_key=raw, item_index=index, reason=reason, quarantined_at=when)
    if store.etag(key) is None:
        store.put_json(key, record.model_dump(mode="json"))
    return key
