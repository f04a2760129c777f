"""Near-duplicate detection with MinHash LSH (datasketch), over word shingles of an article's title and text."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

import datasketch
import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = [
    "DEDUP_VERSION",
    "DUPLICATE_SIMILARITY",
    "HASH_DTYPE",
    "NUM_PERM",
    "STORY_SIMILARITY",
    "Assignment",
    "Signed",
    "StoryIndex",
    "signature",
    "similarity",
]

NUM_PERM = 128
SCHEME = "affine32"  # datasketch 2 needs it named to rebuild a MinHash from stored values
SHINGLE_WORDS = 3
# Estimated Jaccard similarity of shingle sets: copies with light edits score above 0.6, rewrites of the
# same report about 0.25-0.5, unrelated articles under 0.1.
DUPLICATE_SIMILARITY = 0.6
STORY_SIMILARITY = 0.2
MAX_CANDIDATES = 64  # verified per article: bounds the cost when thousands of items look alike
MAX_WORDS = 1500  # the opening of an article decides what it is a copy of; more only costs time
DEDUP_VERSION = f"minhash-{SCHEME}-{NUM_PERM}-w{SHINGLE_WORDS}-datasketch-{datasketch.__version__}"
_WORD = re.compile(r"\w+")


# Drawn once: datasketch would otherwise draw the permutations again for every MinHash it rebuilds.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations
HASH_DTYPE = np.uint32  # the affine32 scheme's values


def _minhash(hashvalues: np.ndarray | None = None) -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, hashvalues=hashvalues, permutations=_PERMUTATIONS)


def signature(title: str, text: str) -> np.ndarray:
    words = [w.casefold() for w in _WORD.findall(f"{title} {text}")[:MAX_WORDS]]
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    minhash = _minhash()
    minhash.update_batch(list(shingles))
    values: np.ndarray = minhash.hashvalues.astype(HASH_DTYPE)
    return values


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


@dataclass(frozen=True, slots=True)
class Signed:
    """What the index keeps of an article: enough to join stories across runs and days."""

    article_id: str
    content_hash: str
    story_id: str
    duplicate_of: str | None
    hashvalues: np.ndarray


@dataclass(frozen=True, slots=True)
class Assignment:
    story_id: str
    duplicate_of: str | None


class StoryIndex:
    """Articles of a rolling window, searchable by content hash and by MinHash similarity."""

    def __init__(self, members: Iterable[Signed] = ()) -> None:
        # LSH only proposes candidates and misses some near its threshold; proposing from half the similarity
        # makes a rewrite at 0.2 found whatever order articles arrive in. Candidates are verified below.
        self._lsh = MinHashLSH(threshold=STORY_SIMILARITY / 2, num_perm=NUM_PERM)
        self._members: dict[str, Signed] = {}
        self._by_hash: dict[str, str] = {}
        for member in members:
            self._add(member)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._members

    def get(self, article_id: str) -> Signed | None:
        return self._members.get(article_id)

    def assign(self, article_id: str, content_hash: str, hashvalues: np.ndarray) -> Signed:
        """Place an article: an exact or near copy gets `duplicate_of`, a rewrite joins the story, else a new story."""
        known = self._members.get(article_id)
        if known is not None:  # a re-run or a revision keeps the place it was given first
            return known
        original = self._by_hash.get(content_hash)
        if original is not None:
            story = self._members[original].story_id
            return self._add(Signed(article_id, content_hash, story, self._root(original), hashvalues))
        best: tuple[float, str] | None = None
        candidates = self._lsh.query(_minhash(hashvalues))
        if len(candidates) > MAX_CANDIDATES:  # templated items ("Shares of X rose"): check a fixed subset
            candidates = heapq.nsmallest(MAX_CANDIDATES, candidates)
        for candidate in candidates:
            score = similarity(hashvalues, self._members[candidate].hashvalues)
            if score >= STORY_SIMILARITY and (best is None or (score, candidate) > best):
                best = (score, candidate)
        if best is None:
            return self._add(Signed(article_id, content_hash, article_id, None, hashvalues))
        score, match = best
        duplicate_of = self._root(match) if score >= DUPLICATE_SIMILARITY else None
        return self._add(Signed(article_id, content_hash, self._members[match].story_id, duplicate_of, hashvalues))

    def members(self) -> list[Signed]:
        return list(self._members.values())

    def _root(self, article_id: str) -> str:
        # Copies of a copy point at the original, so a story has one article the others duplicate.
        return self._members[article_id].duplicate_of or article_id

    def _add(self, member: Signed) -> Signed:
        self._members[member.article_id] = member
        self._by_hash.setdefault(member.content_hash, member.article_id)
        self._lsh.insert(
            member.article_id, MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, hashvalues=member.hashvalues)
        )
        return member
