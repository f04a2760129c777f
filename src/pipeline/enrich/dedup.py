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
    "SignedColumns",
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
LOAD_SLICE = 8192  # articles whose band keys are made at once when a window loads
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


@dataclass(frozen=True, slots=True, eq=False)
class Signed:
    """What the index keeps of an article: enough to find its copies across runs and days."""

    article_id: str
    content_hash: str
    duplicate_of: str | None
    hashvalues: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signed):
            return NotImplemented
        return (self.article_id, self.content_hash, self.duplicate_of) == (
            other.article_id,
            other.content_hash,
            other.duplicate_of,
        ) and bool(np.array_equal(self.hashvalues, other.hashvalues))

    def __hash__(self) -> int:
        return hash((self.article_id, self.content_hash, self.duplicate_of))


@dataclass(frozen=True, slots=True)
class SignedColumns:
    """Many articles' signatures as columns, as the bucket's index keeps them: `hashvalues` one row each."""

    article_ids: list[str]
    content_hashes: list[str]
    duplicate_of: list[str | None]
    hashvalues: np.ndarray  # (articles, NUM_PERM)

    @classmethod
    def of(cls, members: Iterable[Signed]) -> SignedColumns:
        rows = list(members)
        hashvalues = np.array([m.hashvalues for m in rows], dtype=HASH_DTYPE).reshape(len(rows), NUM_PERM)
        return cls(
            [m.article_id for m in rows], [m.content_hash for m in rows], [m.duplicate_of for m in rows], hashvalues
        )


class CopyIndex:
    """Articles of a rolling window, searchable by content hash and by MinHash similarity.

    Signatures sit in one array, a row per article, and band keys in compact postings: no Python object per
    article but its ids (a loaded window of 50,000 is about 60 MB).
    """

    def __init__(self, members: Iterable[Signed] = ()) -> None:
        self._ids: list[str] = []  # position -> article id
        self._position: dict[str, int] = {}
        self._content_hashes: list[str] = []
        self._duplicate_of: list[str | None] = []
        self._by_hash: dict[str, str] = {}
        self._hashvalues = np.empty((1024, NUM_PERM), dtype=HASH_DTYPE)  # grown by doubling
        self._bands = Postings()
        members = list(members)
        if members:
            self.load(SignedColumns.of(members))

    def load(self, window: SignedColumns) -> None:
        """Add a stored window's articles, with the places they were given then."""
        first, new = len(self._ids), []
        for i, article_id in enumerate(window.article_ids):
            if article_id not in self._position:  # a day's object may repeat one another day holds
                self._remember(article_id, window.content_hashes[i], window.duplicate_of[i])
                new.append(i)
        if not new:
            return
        rows = window.hashvalues if len(new) == len(window.article_ids) else window.hashvalues[new]
        self._grow(len(self._ids))
        self._hashvalues[first : len(self._ids)] = rows
        # Band keys a slice at a time, each slice one insertion: no dict entry per key, and the keys of a
        # slice, not of the window, in memory at once.
        for start in range(0, len(rows), LOAD_SLICE):
            part = rows[start : start + LOAD_SLICE]
            positions = np.arange(first + start, first + start + len(part))
            self._bands.extend(np.repeat(positions, BANDS), _band_keys(part).ravel())

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._position

    def get(self, article_id: str) -> Signed | None:
        position = self._position.get(article_id)
        return None if position is None else self._signed(position)

    def place(self, article_id: str, content_hash: str, hashvalues: np.ndarray) -> Signed:
        """Record an article; an exact or near copy of an earlier one gets `duplicate_of` (its original)."""
        known = self.get(article_id)
        if known is not None:  # a re-run or a revision keeps the place it was given first
            return known
        original = self._by_hash.get(content_hash)
        if original is not None:
            return self._add(article_id, content_hash, self._root(original), hashvalues)
        best: tuple[float, str] | None = None
        candidates = sorted(self._ids[owner] for owner in self._bands.query(_band_keys(hashvalues)))
        # Templated items ("Shares of X rose") can share bands with thousands: check a fixed subset.
        for candidate in candidates[:MAX_CANDIDATES]:
            score = similarity(hashvalues, self._hashvalues[self._position[candidate]])
            if score >= DUPLICATE_SIMILARITY and (best is None or (score, candidate) > best):
                best = (score, candidate)
        duplicate_of = None if best is None else self._root(best[1])
        return self._add(article_id, content_hash, duplicate_of, hashvalues)

    def members(self) -> list[Signed]:
        return [self._signed(p) for p in range(len(self._ids))]

    def _signed(self, position: int) -> Signed:
        return Signed(
            self._ids[position],
            self._content_hashes[position],
            self._duplicate_of[position],
            self._hashvalues[position].copy(),
        )

    def _root(self, article_id: str) -> str:
        # Copies of a copy point at the original, so a story has one article the others duplicate.
        return self._duplicate_of[self._position[article_id]] or article_id

    def _remember(self, article_id: str, content_hash: str, duplicate_of: str | None) -> int:
        position = len(self._ids)
        self._ids.append(article_id)
        self._position[article_id] = position
        self._content_hashes.append(content_hash)
        self._duplicate_of.append(duplicate_of)
        self._by_hash.setdefault(content_hash, article_id)
        return position

    def _grow(self, size: int) -> None:
        if size > len(self._hashvalues):
            grown = np.empty((max(size, 2 * len(self._hashvalues)), NUM_PERM), dtype=HASH_DTYPE)
            grown[: len(self._hashvalues)] = self._hashvalues
            self._hashvalues = grown

    def _add(self, article_id: str, content_hash: str, duplicate_of: str | None, hashvalues: np.ndarray) -> Signed:
        position = self._remember(article_id, content_hash, duplicate_of)
        self._grow(position + 1)
        self._hashvalues[position] = hashvalues
        self._bands.add(position, _band_keys(hashvalues))
        return self._signed(position)
