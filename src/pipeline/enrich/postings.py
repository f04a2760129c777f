"""An inverted index from 64-bit keys to integer owners, compact enough for a 50,000-article window."""

from __future__ import annotations

import numpy as np

__all__ = ["Postings"]


class Postings:
    """Keys of many owners, for finding who holds a key.

    A dict of Python lists costs about 100 bytes a posting. Here postings sit in sorted runs, each an array of keys
    and one of owners (12 bytes a posting), and those added one owner at a time in a dict until it holds MERGE_AT
    of them. New postings merge into the last run while it is under RUN postings, else start a run: a merge copies
    one run, never the whole index, so memory never holds two copies of it.
    """

    MERGE_AT = 1 << 16
    RUN = 1 << 20

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (keys sorted, their owners)
        self._recent: dict[int, list[int]] = {}
        self._pending = 0

    def extend(self, owners: np.ndarray, keys: np.ndarray) -> None:
        """Add many postings at once, `owners[i]` holding `keys[i]`."""
        for start in range(0, len(keys), self.RUN):
            self._merge(owners[start : start + self.RUN], keys[start : start + self.RUN])

    def _merge(self, owners: np.ndarray, keys: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order].astype(np.uint64), owners[order].astype(np.int32)
        if not self._runs or len(self._runs[-1][0]) + len(keys) > self.RUN:
            self._runs.append((keys, owners))
            return
        run_keys, run_owners = self._runs[-1]
        at = np.searchsorted(run_keys, keys, side="right")
        self._runs[-1] = (np.insert(run_keys, at, keys), np.insert(run_owners, at, owners))

    def add(self, owner: int, keys: np.ndarray) -> None:
        recent = self._recent
        for key in keys.tolist():
            owners = recent.get(key)
            if owners is None:
                recent[key] = [owner]
            else:
                owners.append(owner)
        self._pending += len(keys)
        if self._pending >= self.MERGE_AT:
            self._recent, self._pending = {}, 0
            lengths = [len(o) for o in recent.values()]
            flat = np.repeat(np.fromiter(recent, np.uint64, len(recent)), lengths)
            self.extend(np.fromiter((o for os in recent.values() for o in os), np.int32, sum(lengths)), flat)

    def pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(i, owner) for every owner of each `keys[i]`."""
        found_which, found_owners = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for run_keys, run_owners in self._runs:
            lo = np.searchsorted(run_keys, keys, side="left")
            lengths = np.searchsorted(run_keys, keys, side="right") - lo
            total = int(lengths.sum())
            if not total:
                continue
            found_which.append(np.repeat(np.arange(len(keys)), lengths))
            # Each key's run of owners: its start, then one more per owner.
            starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
            found_owners.append(run_owners[starts + np.arange(total)].astype(np.int64))
        if self._recent:
            extra = [(i, o) for i, key in enumerate(keys.tolist()) for o in self._recent.get(key, ())]
            if extra:
                more = np.array(extra, dtype=np.int64)
                found_which.append(more[:, 0])
                found_owners.append(more[:, 1])
        return np.concatenate(found_which).astype(np.int64), np.concatenate(found_owners)

    def query(self, keys: np.ndarray) -> set[int]:
        """Owners holding at least one of `keys`."""
        return set(self.pairs(keys)[1].tolist())
