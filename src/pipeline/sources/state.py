"""What the next fetch of a source needs: its state in the bucket (validators, health, backoff)."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from pipeline.errors import PipelineError, TransientError
from pipeline.fetch import HttpStatusError, UnresolvableHostError
from pipeline.models import SourceHealth, SourceState
from pipeline.settings import Settings
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore

__all__ = ["failed_state", "failure_weight", "load_state", "save_state", "scheduled"]


def load_state(store: ObjectStore, source: str) -> SourceState:
    """The source's recorded state; a fresh one when it was never fetched."""
    data = store.get_bytes_or_none(state_key(source))
    return SourceState.model_validate_json(data) if data else SourceState(source=source)


def save_state(store: ObjectStore, state: SourceState) -> None:
    """Write the source's state with one PUT: a saved state always differs from the stored one (its time of
    success or failure moved), so asking first whether it changed would only double the requests."""
    store.put_bytes(state_key(state.source), state.model_dump_json(indent=2).encode() + b"\n", "application/json")


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
