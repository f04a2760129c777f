"""Every object key of the bucket layout, built and parsed here and nowhere else.

raw/{source}/{yyyy}/{mm}/{dd}/{fetched_at}-{sha256}.{ext}   payloads exactly as fetched
articles/date={yyyy-mm-dd}/{article_id}.json                one enriched article
lake/articles/date={yyyy-mm-dd}/part-0000.parquet           daily compaction
state/sources/{source}.json, state/stories/{yyyy-mm-dd}.parquet
state/alerts/{watchlist}/{story_id}.json                     what a watchlist has alerted of a story
quarantine/{yyyy-mm-dd}/{source}/{sha256}.json               rejected input and its reason
runs/{dag_id}/{run_id}.json                                  run reports
digests/{yyyy-mm-dd}/digest.{fmt}, digests/latest.{fmt}, digests/feed.atom
inbox/{name}.txt (put there), inbox/pending/{claimed_at}-{etag hash}-{name}.txt, inbox/processed/ (the same)
staging/{run_id}/{stage}/{source}.{ext}                      hand-over between the stages of one run
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Literal

__all__ = [
    "ALERTS_PREFIX",
    "DIGESTS_PREFIX",
    "DIGEST_FEED_KEY",
    "INBOX_PENDING",
    "INBOX_PROCESSED",
    "LAKE_PREFIX",
    "QUARANTINE_PREFIX",
    "RAW_PREFIX",
    "STATE_PREFIX",
    "alert_state_key",
    "article_key",
    "articles_prefix",
    "digest_date_of",
    "digest_key",
    "fetched_at_of",
    "inbox_pending_key",
    "inbox_processed_key",
    "is_page_key",
    "lake_key",
    "quarantine_day_of",
    "quarantine_key",
    "raw_day_of",
    "raw_day_prefix",
    "raw_key",
    "run_key",
    "runs_prefix",
    "safe_segment",
    "staging_key",
    "state_key",
    "story_index_key",
]

RAW_PREFIX = "raw/"
STATE_PREFIX = "state/sources/"
STORIES_PREFIX = "state/stories/"
ALERTS_PREFIX = "state/alerts/"
QUARANTINE_PREFIX = "quarantine/"
LAKE_PREFIX = "lake/articles"
DIGESTS_PREFIX = "digests/"
DIGEST_FEED_KEY = "digests/feed.atom"
INBOX_PENDING = "pending/"
INBOX_PROCESSED = "processed/"
PAGE_EXTENSION = "html"  # an article page fetched for its full text, beside its feed's payload

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STAMP = "%Y%m%dT%H%M%SZ"
_DIGEST_JSON = re.compile(r"^digests/(\d{4}-\d{2}-\d{2})/digest\.json$")

Stage = Literal["normalised", "enriched", "stored"]


def safe_segment(value: str) -> str:
    """Make a run id or name safe as one key segment (Airflow run ids contain ':' and '+')."""
    return _UNSAFE.sub("_", value).strip("_") or "_"


def raw_key(source: str, fetched_at: datetime, sha256: str, ext: str) -> str:
    return f"{RAW_PREFIX}{source}/{fetched_at:%Y/%m/%d}/{fetched_at.strftime(_STAMP)}-{sha256}.{ext}"


def fetched_at_of(key: str) -> datetime:
    """The fetch time stamped into a raw/ key by `raw_key`."""
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


def raw_day_of(key: str) -> date:
    """The fetch day of a raw/ key (its folder)."""
    _, _, yyyy, mm, dd, _ = key.split("/", 5)
    return date(int(yyyy), int(mm), int(dd))


def raw_day_prefix(source: str, day: date) -> str:
    return f"{RAW_PREFIX}{source}/{day:%Y/%m/%d}/"


def is_page_key(key: str) -> bool:
    """True for an archived article page, False for a feed or document payload."""
    return key.endswith(f".{PAGE_EXTENSION}")


def article_key(day: date, article_id: str) -> str:
    return f"{articles_prefix(day)}{article_id}.json"


def articles_prefix(day: date) -> str:
    return f"articles/date={day.isoformat()}/"


def lake_key(day: date) -> str:
    return f"{LAKE_PREFIX}/date={day.isoformat()}/part-0000.parquet"


def state_key(source: str) -> str:
    return f"{STATE_PREFIX}{source}.json"


def story_index_key(day: date) -> str:
    """MinHash signatures and story assignments of the articles published on `day`."""
    return f"{STORIES_PREFIX}{day.isoformat()}.parquet"


def alert_state_key(watchlist: str, story_id: str) -> str:
    """The sources a watchlist has seen of a story and the alerts it raised."""
    return f"{ALERTS_PREFIX}{safe_segment(watchlist)}/{safe_segment(story_id)}.json"


def quarantine_key(day: date, source: str, sha256: str) -> str:
    return f"{QUARANTINE_PREFIX}{day.isoformat()}/{source}/{sha256}.json"


def quarantine_day_of(key: str) -> date:
    return date.fromisoformat(key.removeprefix(QUARANTINE_PREFIX).split("/", 1)[0])


def runs_prefix(dag_id: str) -> str:
    return f"runs/{dag_id}/"


def run_key(dag_id: str, run_id: str) -> str:
    return f"{runs_prefix(dag_id)}{safe_segment(run_id)}.json"


def staging_key(run_id: str, stage: Stage, source: str) -> str:
    """Hand-over between stages of one run: the staged articles (JSON Lines), or the stored keys (JSON)."""
    ext = "json" if stage == "stored" else "jsonl"
    return f"staging/{safe_segment(run_id)}/{stage}/{source}.{ext}"


def digest_key(day: date | None, fmt: str) -> str:
    """Key of a digest rendering; `day=None` gives the `latest.{fmt}` copy."""
    if day is None:
        return f"{DIGESTS_PREFIX}latest.{fmt}"
    return f"{DIGESTS_PREFIX}{day.isoformat()}/digest.{fmt}"


def digest_date_of(key: str) -> date | None:
    """The day of a `digests/{day}/digest.json` key; None for any other key."""
    match = _DIGEST_JSON.match(key)
    return date.fromisoformat(match.group(1)) if match else None


def inbox_pending_key(prefix: str, name: str, claimed_at: datetime, etag: str) -> str:
    """Where the inbox trigger claims a document put directly under the inbox `prefix`: a name of its own
    (claim time, a short hash of the object's ETag, then its name), so a second document of the same name,
    put before the first is stored, never replaces it."""
    tag = hashlib.sha256(etag.encode()).hexdigest()[:8]
    return f"{prefix}{INBOX_PENDING}{claimed_at.astimezone(UTC).strftime(_STAMP)}-{tag}-{name}"


def inbox_processed_key(key: str, name: str, now: datetime | None = None) -> str | None:
    """Where an inbox document goes once stored, or None for an object the inbox does not ingest.

    `name` is the key relative to the inbox: documents directly in it, or claimed into `pending/`, count;
    those in other folders (`processed/` among them) do not. A claimed document keeps its claimed name, one
    of its own already; one stored straight from the inbox gets the time (`now`) in front of its name, so
    neither ever replaces an earlier document of the same name in `processed/`.
    """
    claimed = name.startswith(INBOX_PENDING)
    base = name.removeprefix(INBOX_PENDING)
    if "/" in base or not base.endswith(".txt"):
        return None
    if not claimed:
        base = f"{(now or datetime.now(UTC)).astimezone(UTC).strftime(_STAMP)}-{base}"
    return key[: len(key) - len(name)] + INBOX_PROCESSED + base
