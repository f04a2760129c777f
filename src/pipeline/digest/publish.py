"""Write a digest's renderings, the `latest` copies and the Atom feed of recent digests."""

from __future__ import annotations

from datetime import date

from pipeline.digest.render import render_atom, render_html, render_json, render_markdown
from pipeline.models import Digest
from pipeline.storage.keys import DIGEST_FEED_KEY, DIGESTS_PREFIX, digest_date_of, digest_key
from pipeline.storage.store import ObjectStore

__all__ = ["list_digest_dates", "load_digest", "publish_digest"]

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}


def list_digest_dates(store: ObjectStore) -> list[date]:
    """Dates that have a published digest, oldest first."""
    return sorted(day for key in store.list_keys(DIGESTS_PREFIX) if (day := digest_date_of(key)) is not None)


def load_digest(store: ObjectStore, day: date) -> Digest | None:
    data = store.get_bytes_or_none(digest_key(day, "json"))
    return Digest.model_validate_json(data) if data else None


def publish_digest(store: ObjectStore, digest: Digest, feed_entries: int) -> dict[str, str]:
    """Publish every rendering of `digest`; return format -> key of what was written for its date."""
    renderings = {"html": render_html(digest), "md": render_markdown(digest), "json": render_json(digest)}
    keys: dict[str, str] = {}
    for fmt, body in renderings.items():
        keys[fmt] = digest_key(digest.date, fmt)
        store.put_if_changed(keys[fmt], body.encode(), CONTENT_TYPES[fmt])

    dates = list_digest_dates(store)
    if dates and digest.date >= dates[-1]:
        for fmt in ("html", "json"):
            store.put_if_changed(digest_key(None, fmt), renderings[fmt].encode(), CONTENT_TYPES[fmt])

    recent = [d for d in (load_digest(store, day) for day in dates[-feed_entries:]) if d is not None]
    feed = render_atom(recent, feed_id=f"urn:news-pipeline:{store.bucket}:digests")
    store.put_if_changed(DIGEST_FEED_KEY, feed.encode(), "application/atom+xml")
    keys["latest"] = digest_key(None, "html")
    keys["feed"] = DIGEST_FEED_KEY
    return keys
