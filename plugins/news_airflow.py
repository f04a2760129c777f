"""Airflow-side pieces the news DAGs share: their assets and the object store behind `aws_default`."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetWatcher
from news_triggers import InboxTrigger

from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.storage import ObjectStore

__all__ = [
    "AWS_CONN_ID",
    "DEFAULT_ARGS",
    "DIGEST_CRON",
    "FETCH_POOL",
    "INGEST_CRON",
    "NEWS_ARTICLES",
    "NEWS_DIGESTS",
    "NEWS_INBOX",
    "object_store",
]

AWS_CONN_ID = "aws_default"
# Name-only assets: a URI with a scheme makes Airflow load every provider's URI handlers (and boto3) at parse.
NEWS_ARTICLES = Asset(name="news_articles")
NEWS_DIGESTS = Asset(name="news_digests")
# A document put under inbox/ in the bucket: the triggerer fires one event per document.
NEWS_INBOX = Asset(name="news_inbox", watchers=[AssetWatcher(name="news_inbox", trigger=InboxTrigger())])
# When the DAGs run on their own. Plain environment variables: reading them costs the parser nothing.
INGEST_CRON = os.environ.get("NEWS_INGEST_CRON", "0 * * * *")
DIGEST_CRON = os.environ.get("NEWS_DIGEST_CRON", "0 6 * * *")
FETCH_POOL = "news_fetch"  # caps concurrent fetch tasks across runs; `make up` creates it

# S3 hiccups and busy feeds clear up; retry with growing pauses before calling a task failed.
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}


def object_store() -> ObjectStore:
    """The bucket from settings, reached with the credentials and endpoint of the `aws_default` connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # heavy: import only inside tasks

    from pipeline.storage import ObjectStore

    return ObjectStore(S3Hook(aws_conn_id=AWS_CONN_ID).get_conn(), get_settings().bucket)
