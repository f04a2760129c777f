"""An inverted index from 64-bit keys to integer owners, compact enough for a 50,000-article window."""

from __future__ import annotations

import numpy as np

__all__ = ["Postings"]


class Postings:
    """Keys of many owners, for finding who holds a key and how many do.

    A dict of Python lists costs about 100 bytes a posting. Here the keys of the loaded window sit in one sorted
    array (12 bytes a posting) and the keys added since in a dict, merged into the array once it grows.
    """

    MERGE_AT = 1 << 17  # keys in the dict; a merge re-sorts the whole array, so not too often

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._owners = np.empty(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}

    def extend(self, owners: np.ndarray, keys: np.ndarray) -> None:
        """Add many keys at once, `owners[i]` owning `keys[i]`."""
        merged_keys = np.concatenate([self._keys, keys.astype(np.uint64)])
        merged_owners = np.concatenate([self._owners, owners.astype(np.int32)])
        order = np.argsort(merged_keys, kind="stable")
        self._keys, self._owners = merged_keys[order], merged_owners[order]

    def add(self, owner: int, keys: np.ndarray) -> None:
        for key in keys.tolist():
            self._recent.setdefault(key, []).append(owner)
        if len(self._recent) >= self.MERGE_AT:
            recent, self._recent = self._recent, {}
            owners = np.array([o for os in recent.values() for o in os], dtype=np.int32)
            flat = np.array([k for k, os in recent.items() for _ in os], dtype=np.uint64)
            self.extend(owners, flat)

    def counts(self, keys: np.ndarray) -> np.ndarray:
        """How many postings each key has."""
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found = (hi - lo).astype(np.int64)
        if self._recent:
            found += np.array([len(self._recent.get(k, ())) for k in keys.tolist()], dtype=np.int64)
        return found

    def owners_of(self, keys: np.ndarray) -> list[list[int]]:
        """The owners of each key, in the order of `keys`."""
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found = []
        for key, start, stop in zip(keys.tolist(), lo.tolist(), hi.tolist(), strict=True):
            owners = self._owners[start:stop].tolist() if stop > start else []
            found.append(owners + self._recent.get(key, []))
        return found

    def query(self, keys: np.ndarray) -> set[int]:
        """Owners holding at least one of `keys`."""
        return {owner for owners in self.owners_of(keys) for owner in owners}
