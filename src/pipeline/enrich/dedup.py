"""Copy (near-duplicate) detection with MinHash LSH (datasketch), over word shingles of an article's title and text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import datasketch
import numpy as np
from datasketch import MinHash

from pipeline.enrich.postings import Postings

__all__ = [
    "DEDUP_VERSION",
    "DUPLICATE_SIMILARITY",
    "HASH_DTYPE",
    "NUM_PERM",
    "CopyIndex",
    "Signed",
    "signature",
    "similarity",
]

NUM_PERM = 128
SCHEME = "affine32"  # datasketch 2 needs it named to rebuild a MinHash from stored values
SHINGLE_WORDS = 3
# Estimated Jaccard similarity of shingle sets: syndicated copies, even under a new headline and opening
# line, score above 0.5; rewrites of the same report about 0.2-0.25, independent reports of one event under
# 0.1 (stories are events.py's).
DUPLICATE_SIMILARITY = 0.45
MAX_CANDIDATES = 64  # verified per article: bounds the cost when thousands of items look alike
MAX_WORDS = 1500  # the opening of an article decides what it is a copy of; more only costs time
# LSH bands of two values: a pair at similarity s shares a band with probability 1 - (1 - s²)^64, 0.999 at 0.3,
# so copies are found whatever order articles arrive in.
BANDS, ROWS = 64, 2
DEDUP_VERSION = (
    f"minhash-{SCHEME}-{NUM_PERM}-w{SHINGLE_WORDS}-lsh{BANDS}x{ROWS}-copy{DUPLICATE_SIMILARITY}"
    f"-datasketch-{datasketch.__version__}"
)
_WORD = re.compile(r"\w+")


# Drawn once: datasketch would otherwise draw the permutations again for every MinHash it rebuilds.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations
HASH_DTYPE = np.uint32  # the affine32 scheme's values


def signature(title: str, text: str) -> np.ndarray:
    words = [w.casefold() for w in _WORD.findall(f"{title} {text}")[:MAX_WORDS]]
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, permutations=_PERMUTATIONS)
    minhash.update_batch(list(shingles))
    values: np.ndarray = minhash.hashvalues.astype(HASH_DTYPE)
    return values


# Distinct per band, so equal values in different bands do not make one key.
_BAND_SALTS = np.random.default_rng(7).integers(0, 2**63, BANDS, dtype=np.uint64)


def _band_keys(hashvalues: np.ndarray) -> np.ndarray:
    """One 64-bit key per band (shape `(..., BANDS)`): the band's two 32-bit values side by side, salted."""
    values = hashvalues.astype(np.uint64).reshape(*hashvalues.shape[:-1], BANDS, ROWS)
    return ((values[..., 0] << np.uint64(32)) | values[..., 1]) ^ _BAND_SALTS


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


@dataclass(frozen=True, slots=True)
class Signed:
    """What the index keeps of an article: enough to find its copies across runs and days."""

    article_id: str
    content_hash: str
    duplicate_of: str | None
    hashvalues: np.ndarray


class CopyIndex:
    """Articles of a rolling window, searchable by content hash and by MinHash similarity."""

    def __init__(self, members: Iterable[Signed] = ()) -> None:
        self._members: dict[str, Signed] = {}
        self._by_hash: dict[str, str] = {}
        self._ids: list[str] = []  # position -> article id, the owners in the band index
        self._bands = Postings()
        loaded = []
        for member in members:
            if member.article_id not in self._members:
                self._remember(member)
                loaded.append(member)
        if loaded:  # one sort for the whole window rather than a dict entry per key
            positions = np.arange(len(self._ids) - len(loaded), len(self._ids))
            keys = _band_keys(np.stack([m.hashvalues for m in loaded]))
            self._bands.extend(np.repeat(positions, BANDS), keys.ravel())

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._members

    def get(self, article_id: str) -> Signed | None:
        return self._members.get(article_id)

    def place(self, article_id: str, content_hash: str, hashvalues: np.ndarray) -> Signed:
        """Record an article; an exact or near copy of an earlier one gets `duplicate_of` (its original)."""
        known = self._members.get(article_id)
        if known is not None:  # a re-run or a revision keeps the place it was given first
            return known
        original = self._by_hash.get(content_hash)
        if original is not None:
            return self._add(Signed(article_id, content_hash, self._root(original), hashvalues))
        best: tuple[float, str] | None = None
        candidates = sorted(self._ids[owner] for owner in self._bands.query(_band_keys(hashvalues)))
        # Templated items ("Shares of X rose") can share bands with thousands: check a fixed subset.
        for candidate in candidates[:MAX_CANDIDATES]:
            score = similarity(hashvalues, self._members[candidate].hashvalues)
            if score >= DUPLICATE_SIMILARITY and (best is None or (score, candidate) > best):
                best = (score, candidate)
        duplicate_of = None if best is None else self._root(best[1])
        return self._add(Signed(article_id, content_hash, duplicate_of, hashvalues))

    def members(self) -> list[Signed]:
        return list(self._members.values())

    def _root(self, article_id: str) -> str:
        # Copies of a copy point at the original, so a story has one article the others duplicate.
        return self._members[article_id].duplicate_of or article_id

    def _remember(self, member: Signed) -> None:
        self._members[member.article_id] = member
        self._by_hash.setdefault(member.content_hash, member.article_id)
        self._ids.append(member.article_id)

    def _add(self, member: Signed) -> Signed:
        self._remember(member)
        self._bands.add(len(self._ids) - 1, _band_keys(member.hashvalues))
        return member
