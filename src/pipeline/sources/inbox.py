"""The bucket's inbox: documents dropped under `inbox/`, claimed into `inbox/pending/`, then `inbox/processed/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.storage.keys import inbox_pending_key

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

__all__ = ["INBOX_ID", "claim_new_documents"]

INBOX_ID = "inbox"


def claim_new_documents(store: ObjectStore, prefix: str, now: datetime | None = None) -> list[str]:
    """Move every document newly put directly under the inbox into `pending/`, each under a name of its own
    (claim time and a hash of its ETag before its name); return the new keys.

    Moving is what makes an event fire once per document: a claimed document is never listed again here.
    """
    claimed_at = now or datetime.now(UTC)
    claimed = []
    for key in list(store.list_keys(prefix)):
        name = key.removeprefix(prefix)
        if "/" in name or not name.endswith(".txt"):
            continue
        etag = store.etag(key)
        if etag is None:  # deleted since the listing
            continue
        target = inbox_pending_key(prefix, name, claimed_at, etag)
        store.move(key, target)
        claimed.append(target)
    return claimed
