"""What the next fetch of a source needs: its state in the bucket (validators, health, backoff)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pipeline.errors import PipelineError
from pipeline.fetch import HttpStatusError
from pipeline.models import SourceHealth, SourceState
from pipeline.settings import Settings
from pipeline.storage.keys import state_key
from pipeline.storage.store import ObjectStore

__all__ = ["failed_state", "load_state", "save_state"]


def load_state(store: ObjectStore, source: str) -> SourceState:
    """The source's recorded state; a fresh one when it was never fetched."""
    data = store.get_bytes_or_none(state_key(source))
    return SourceState.model_validate_json(data) if data else SourceState(source=source)


def save_state(store: ObjectStore, state: SourceState) -> None:
    store.put_json(state_key(state.source), state.model_dump(mode="json"))


def failed_state(state: SourceState, error: PipelineError, now: datetime, settings: Settings) -> SourceState:
    """Count the failure and back off exponentially, with jitter so failing sources do not retry in step."""
    failures = state.consecutive_failures + 1
    base, cap = timedelta(seconds=settings.fetch_backoff_base), timedelta(seconds=settings.fetch_backoff_cap)
    delay = min(base * 2 ** (failures - 1), cap) * random.uniform(0.8, 1.2)  # noqa: S311
    status = error.status if isinstance(error, HttpStatusError) else None
    if isinstance(error, HttpStatusError) and error.retry_after is not None:
        delay = max(delay, min(timedelta(seconds=error.retry_after), cap))  # a server cannot silence a source
    gone = isinstance(error, HttpStatusError) and error.permanent
    return state.model_copy(
        update={
            "health": SourceHealth.DISABLED if gone else SourceHealth.FAILING,
            "consecutive_failures": failures,
            "last_error": str(error),
            "last_status": status,
            "next_attempt_at": now + delay,
        }
    )
