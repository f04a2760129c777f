"""Airflow-side pieces the news DAGs share: their assets and the object store behind `aws_default`."""

from __future__ import annotations

from airflow.sdk import Asset

from pipeline.settings import get_settings
from pipeline.storage import ObjectStore

__all__ = ["AWS_CONN_ID", "NEWS_ARTICLES", "NEWS_DIGESTS", "object_store"]

AWS_CONN_ID = "aws_default"
NEWS_ARTICLES = Asset(name="news_articles", uri="news://articles")
NEWS_DIGESTS = Asset(name="news_digests", uri="news://digests")


def object_store() -> ObjectStore:
    """The bucket from settings, reached with the credentials and endpoint of the `aws_default` connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # heavy: import only inside tasks

    return ObjectStore(S3Hook(aws_conn_id=AWS_CONN_ID).get_conn(), get_settings().bucket)
