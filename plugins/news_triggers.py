"""Event triggers for the news DAGs; here so both the dag-processor and the triggerer can import them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from pipeline.settings import get_settings
from pipeline.sources.inbox import claim_new_documents

__all__ = ["InboxTrigger", "PushTrigger"]


class InboxTrigger(BaseEventTrigger):
    """Fire once per document put under the bucket's inbox: each one is moved to `inbox/pending/` first.

    The triggerer reaches the bucket with the same `AWS_*`/`NEWS_*` settings as the `news` command.
    """

    def __init__(self, poll_interval: float = 10.0) -> None:
        super().__init__()
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("news_triggers.InboxTrigger", {"poll_interval": self.poll_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from pipeline.storage.store import ObjectStore  # boto3 is heavy; the dag-processor never needs it

        settings = get_settings()
        store = ObjectStore.from_settings(settings)
        while True:
            claimed = await asyncio.to_thread(claim_new_documents, store, settings.inbox_prefix)
            for key in claimed:
                self.log.info("inbox document claimed: %s", key)
                yield TriggerEvent({"key": key})
            await asyncio.sleep(self.poll_interval)


class PushTrigger(BaseEventTrigger):
    """Fire once per WebSub push the callback stored: each one is moved from `new/` to `pending/` first, and its
    event names its source."""

    def __init__(self, poll_interval: float = 2.0) -> None:
        super().__init__()
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("news_triggers.PushTrigger", {"poll_interval": self.poll_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from pipeline.sources.websub import claim_pushes
        from pipeline.storage.store import ObjectStore

        settings = get_settings()
        store = ObjectStore.from_settings(settings)
        prefix = settings.websub_push_prefix
        while True:
            if settings.websub_callback_url:  # no callback, no subscriptions: nothing can arrive
                for key in await asyncio.to_thread(claim_pushes, store, prefix):
                    self.log.info("WebSub push claimed: %s", key)
                    yield TriggerEvent({"key": key, "source": key.removeprefix(prefix).split("/")[1]})
            await asyncio.sleep(self.poll_interval)
