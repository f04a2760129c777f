"""The bucket's inbox: documents dropped under `inbox/`, claimed into `inbox/pending/`, then `inbox/processed/`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.storage.keys import inbox_pending_key

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

__all__ = ["INBOX_ID", "claim_new_documents"]

INBOX_ID = "inbox"


def claim_new_documents(store: ObjectStore, prefix: str) -> list[str]:
    """Move every document newly put directly under the inbox into `pending/`; return the new keys.

    Moving is what makes an event fire once per document: a claimed document is never listed again here.
    """
    claimed = []
    for key in list(store.list_keys(prefix)):
        name = key.removeprefix(prefix)
        if "/" in name or not name.endswith(".txt"):
            continue
        target = inbox_pending_key(prefix, name)
        store.move(key, target)
        claimed.append(target)
    return claimed
