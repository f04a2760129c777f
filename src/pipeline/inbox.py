"""The bucket's inbox: documents dropped under `inbox/`, claimed into `inbox/pending/`, then `inbox/processed/`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.storage import ObjectStore

__all__ = ["INBOX_ID", "PENDING", "PROCESSED", "claim_new_documents", "processed_key"]

INBOX_ID = "inbox"

PENDING = "pending/"
PROCESSED = "processed/"


def processed_key(key: str, name: str) -> str | None:
    """Where an inbox document goes once stored, or None for an object the inbox does not ingest.

    `name` is the key relative to the inbox: documents directly in it, or claimed into `pending/`, count;
    those in other folders (`processed/` among them) do not.
    """
    base = name.removeprefix(PENDING)
    if "/" in base or not base.endswith(".txt"):
        return None
    return key[: len(key) - len(name)] + PROCESSED + base


def claim_new_documents(store: ObjectStore, prefix: str) -> list[str]:
    """Move every document newly put directly under the inbox into `pending/`; return the new keys.

    Moving is what makes an event fire once per document: a claimed document is never listed again here.
    """
    claimed = []
    for key in list(store.list_keys(prefix)):
        name = key.removeprefix(prefix)
        if "/" in name or not name.endswith(".txt"):
            continue
        target = f"{prefix}{PENDING}{name}"
        store.move(key, target)
        claimed.append(target)
    return claimed
