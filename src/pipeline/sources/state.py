"""What the next fetch of a source needs: its state in the bucket (validators, health, backoff)."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.errors import PipelineError, TransientError
from pipeline.fetch import HttpStatusError, UnresolvableHostError
from pipeline.models import SourceHealth, SourceState
from pipeline.settings import Settings
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore

__all__ = ["StateCache", "failed_state", "failure_weight", "load_state", "save_state", "scheduled"]


class StateCache:
    """Source states this machine last read or wrote, kept on disk by their MD5, which is the ETag a listing of
    the bucket shows: a run whose listing shows a state unchanged reads it here instead of a GET per source (over
    thousands of sources, most not due, those GETs were most of a run). The bucket stays the truth: a file is
    used only when its bytes hash to the listed ETag, and a folder that cannot be written only costs the GETs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def from_settings(cls, settings: Settings) -> StateCache:
        return cls(settings.local_dir / "cache" / "source-states")

    def get(self, etag: str) -> bytes | None:
        try:
            data = (self.folder / f"{etag}.json").read_bytes()
        except (OSError, ValueError):  # ValueError: an ETag no file could be named by
            return None
        return data if hashlib.md5(data, usedforsecurity=False).hexdigest() == etag else None

    def put(self, data: bytes) -> None:
        name = f"{hashlib.md5(data, usedforsecurity=False).hexdigest()}.json"
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            Path(tmp).replace(self.folder / name)  # whole or absent, also with shards writing beside it

    def keep_only(self, etags: set[str]) -> None:
        """Forget the states the bucket no longer holds (their sources fetched since, or removed)."""
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.json"):
                if path.stem not in etags:
                    path.unlink(missing_ok=True)


def load_state(store: ObjectStore, source: str, cache: StateCache | None = None) -> SourceState:
    """The source's recorded state, read from the bucket (and kept in `cache`); a fresh one when it was never
    fetched. The fetch stage looks in the cache first, by the ETag its listing gave."""
    data = store.get_bytes_or_none(state_key(source))
    if data is not None and cache is not None:
        cache.put(data)
    return SourceState.model_validate_json(data) if data else SourceState(source=source)


def save_state(store: ObjectStore, state: SourceState, cache: StateCache | None = None) -> None:
    """Write the source's state with one PUT: a saved state always differs from the stored one (its time of
    success or failure moved), so asking first whether it changed would only double the requests."""
    data = state.model_dump_json(indent=2).encode() + b"\n"
    store.put_bytes(state_key(state.source), data, "application/json")
    if cache is not None:
        cache.put(data)


def scheduled(
    state: SourceState, fetched_at: datetime, settings: Settings, hint: float | None, published: list[datetime]
) -> SourceState:
    """When to poll the source next: the feed's own hint (ttl, sy:update*, max-age) if it gives one, else half
    the typical gap between its items, within `poll_min_interval`..`poll_max_interval` (0: every run)."""
    if not settings.poll_max_interval:
        return state
    max_age = (state.next_attempt_at - fetched_at).total_seconds() if state.next_attempt_at else None
    hints = [h for h in (hint, max_age) if h]
    interval = max(hints) if hints else _publishing_gap(published) or settings.poll_min_interval
    interval = min(max(interval, settings.poll_min_interval), settings.poll_max_interval)
    return state.model_copy(
        update={"poll_interval": interval, "next_attempt_at": fetched_at + timedelta(seconds=interval)}
    )


def _publishing_gap(published: list[datetime]) -> float | None:
    """Half the median gap between the newest items: the feed is then seldom polled for nothing, and new
    items wait half a gap on average."""
    newest = sorted(published, reverse=True)[:20]
    gaps = sorted((a - b).total_seconds() for a, b in itertools.pairwise(newest) if a > b)
    return gaps[len(gaps) // 2] / 2 if gaps else None


def failure_weight(error: PipelineError) -> float:
    """How much one failure says the source is broken: a passing outage (timeout, reset, 5xx, 429) counts
    half as much as a missing feed (4xx) or a host that does not resolve."""
    if isinstance(error, HttpStatusError):
        return 0.5 if error.status >= 500 or error.status in (408, 425, 429) else 1.0
    if isinstance(error, UnresolvableHostError) or not isinstance(error, TransientError):
        return 1.0
    return 0.5


def failed_state(state: SourceState, error: PipelineError, now: datetime, settings: Settings) -> SourceState:
    """Count the failure and back off exponentially by the weighted failures, with jitter so failing sources do
    not retry in step; the first success resets it (a failing source recovers by itself)."""
    failures = state.consecutive_failures + 1
    weight = state.failure_weight + failure_weight(error)
    base, cap = timedelta(seconds=settings.fetch_backoff_base), timedelta(seconds=settings.fetch_backoff_cap)
    delay = min(base * 2 ** max(weight - 1, 0), cap) * random.uniform(0.8, 1.2)  # noqa: S311
    status = error.status if isinstance(error, HttpStatusError) else None
    if isinstance(error, HttpStatusError) and error.retry_after is not None:
        delay = max(delay, min(timedelta(seconds=error.retry_after), cap))  # a server cannot silence a source
    gone = isinstance(error, HttpStatusError) and error.permanent
    return state.model_copy(
        update={
            "health": SourceHealth.DISABLED if gone else SourceHealth.FAILING,
            "consecutive_failures": failures,
            "failure_weight": weight,
            "last_error": str(error),
            "last_status": status,
            "next_attempt_at": now + delay,
        }
    )
