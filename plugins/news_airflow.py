"""Airflow-side pieces the news DAGs share: their assets and the object store behind `aws_default`."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetWatcher, ExceptionRetryPolicy, RetryAction, RetryRule
from news_triggers import InboxTrigger, PushTrigger

from pipeline.errors import ConfigError, PermanentError, PreconditionFailed, StorageError, TransientError
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

__all__ = [
    "AWS_CONN_ID",
    "DAY_KEY",
    "DEFAULT_ARGS",
    "DIGEST_CRON",
    "FETCH_POOL",
    "INGEST_CRON",
    "NEWS_ARTICLES",
    "NEWS_DAY",
    "NEWS_DIGESTS",
    "NEWS_INBOX",
    "NEWS_PUSHES",
    "RETRY_POLICY",
    "email_digest",
    "object_store",
    "send_email",
]

AWS_CONN_ID = "aws_default"
# Name-only assets: a URI with a scheme makes Airflow load every provider's URI handlers (and boto3) at parse.
# Partitioned by day (YYYY-MM-DD): one event per date an ingest stored articles for.
NEWS_ARTICLES = Asset(name="news_articles")
# Partitioned by day too: the daily clock (news_day) closes the day before, so its digest is built once complete.
NEWS_DAY = Asset(name="news_day")
NEWS_DIGESTS = Asset(name="news_digests")
# A document put under inbox/ in the bucket: the triggerer fires one event per document.
NEWS_INBOX = Asset(name="news_inbox", watchers=[AssetWatcher(name="news_inbox", trigger=InboxTrigger())])
# A WebSub push the callback stored: one event per push, naming its source.
NEWS_PUSHES = Asset(name="news_pushes", watchers=[AssetWatcher(name="news_pushes", trigger=PushTrigger())])
# When the DAGs run on their own. Plain environment variables: reading them costs the parser nothing.
INGEST_CRON = os.environ.get("NEWS_INGEST_CRON", "0 * * * *")
DIGEST_CRON = os.environ.get("NEWS_DIGEST_CRON", "0 6 * * *")
DAY_KEY = "%Y-%m-%d"  # the partition key of a day, on news_articles and news_day
FETCH_POOL = "news_fetch"  # caps concurrent fetch tasks across runs; `make up` creates it

# What a retry can fix, and what fails the same way every time. The first matching rule wins, so the
# transient kinds of StorageError come before StorageError. Anything else keeps the plain retries below.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=[TransientError, PreconditionFailed, ConnectionError, TimeoutError],
            action=RetryAction.RETRY,
            reason="transient: a timeout, a 5xx, throttling or a lost race; every write is idempotent",
        ),
        RetryRule(
            exception=[ConfigError, PermanentError, StorageError],
            action=RetryAction.FAIL,
            reason="permanent: bad configuration, a missing bucket or object, refused credentials",
        ),
    ]
)

# S3 hiccups and busy feeds clear up; retry with growing pauses before calling a task failed.
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_policy": RETRY_POLICY,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    # No task runs forever, whatever a feed does: an hour is well past a fetch budget or a shard's enrichment.
    "execution_timeout": timedelta(hours=1),
}


def object_store() -> ObjectStore:
    """The bucket from settings, reached with the credentials and endpoint of the `aws_default` connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # heavy: import only inside tasks

    from pipeline.storage.store import ObjectStore

    return ObjectStore(_s3_client(S3Hook.get_connection(AWS_CONN_ID).get_uri()), get_settings().bucket)


@functools.lru_cache(maxsize=4)
def _s3_client(connection: str) -> Any:
    """One client per connection and process: building one loads botocore's S3 model (half a second a task
    when `dag.test()` runs every task in one process)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()


def email_digest(day: str, context: Any, dropped: Sequence[str] = ()) -> list[str]:
    """E-mail the digest of `day` (without the `dropped` story ids) to its recipients; return them."""
    from datetime import date

    from pipeline.stages.digest import digest_email

    subject, html = digest_email(object_store(), date.fromisoformat(day), dropped)
    send_email(subject, html, context)
    return list(get_settings().digest_email_to)


def send_email(subject: str, html: str, context: Any) -> None:
    """Send `html` to the digest's recipients through Airflow's SMTP notifier."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    settings = get_settings()
    notifier = SmtpNotifier(
        to=settings.digest_email_to,
        from_email=settings.digest_email_from,
        subject=subject,
        html_content=html,
        smtp_conn_id=settings.smtp_conn_id,
    )
    # notify(), not notifier(context): calling it would render the digest as a Jinja template, and feed text
    # must never be evaluated as one.
    notifier.notify(context)
