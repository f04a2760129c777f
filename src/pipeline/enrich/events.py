"""Event stories: what an article reports (names, numbers, rare terms) and the index that groups reports of one event.

Independent reports of one event share facts, not phrases: the people, places and organisations, the numbers, the
rarer words. An article is a weighted set of such features, each weighted by how rare it is in the window (IDF); it
joins a story whose members' profile (centroid) it is similar enough to, the earliest begun when it fits several
(the story continues rather than restarts), else it starts a story. Comparing with the whole story, not its nearest
member, keeps chains of look-alikes apart (the same minister at another meeting, another earthquake the same week).
Names and numbers survive translation where words do not, so an article in another language than the story's is
compared on those alone; a named entity's words count also by the consonants their Latin, Cyrillic and katakana
spellings share (`entities.name_key`). The day a report's opening says its event happened is evidence too: a report
of a day two or more days from every day its story's reports name is another event of the same people (another match of
the same player, another meeting of the same minister), while a follow-up reports the next day of its story and
the story goes on day by day.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import wordfreq
from anyascii import anyascii

from pipeline.enrich.dedup import CopyIndex, signature
from pipeline.enrich.entities import name_key
from pipeline.enrich.eventdays import event_day
from pipeline.enrich.postings import Postings
from pipeline.models import Article

__all__ = [
    "EVENT_VERSION",
    "EventIndex",
    "Features",
    "Member",
    "MemberColumns",
    "Placement",
    "event_features",
    "place_articles",
    "readable_features",
]

EVENT_VERSION = "events-4"
MAX_WORDS = 400  # the opening of a report carries its facts; background further down dilutes them
TERM_MIN = 4  # shorter words are mostly grammar in the languages written with spaces
STEM = 6  # a word's first letters: plural and case endings fall away, in any language, at no cost
NAME_STEM = 7
KEY_MIN = 4  # consonants of a name's word (name_key) to stand for it: shorter ones are shared by many names
# Kinds of feature and their weight: a shared name or number says more about the event than a shared word.
NAME, NUMBER, TERM = "n", "d", "t"
KIND_WEIGHT = {NAME: 1.0, NUMBER: 2.0, TERM: 1.0}
KIND_CODES = {TERM: 0, NAME: 1, NUMBER: 2}
COMMON_ZIPF, RARE_ZIPF, RARITY_FLOOR = 7.5, 2.0, 0.05  # a word's weight: 1 when rarer than RARE_ZIPF
TITLE_WEIGHT = 2.0  # a word of the title counts as this many of the text
PARAGRAPH_WEIGHTS = (2.0, 1.0, 0.5)  # the lead, the next paragraph, the rest
# Similarity (cosine of IDF-weighted profiles) an article needs to join a story: on its features of every kind
# when the story has a member in its language, on names and numbers alone when not.
JOIN_SIMILARITY = 0.3
CROSS_LANGUAGE_SIMILARITY = 0.12
MIN_SHARED = 2  # features in common, at the least: one place or one name alone is no event
MIN_SHARED_NAMES = 3  # ... across languages without a number in common: names alone, of several
HALF_LIFE_DAYS = 1.5  # a story fades: similarity counts half this many days after its latest member
RARE_SHARE = 0.005  # features in more of the window than this share find no candidates (they find everyone)
RARE_FLOOR = 50  # ... unless the window is small
CANDIDATE_STORIES = 12  # compared in full per article, the ones sharing the most rare weight
ALL_LANGUAGES = "*"  # a profile of every member, whatever its language
PROFILE_MEMBERS = 24  # a story's profile is made of its latest members: bounds the cost of huge stories
PROFILE_CACHE = 1024  # stories whose profiles are kept between articles: the ones compared lately
# Weights in half precision: three significant digits are plenty for a cosine, and a 50,000-article window's
# features take 13 bytes each, not 17.
WEIGHT_DTYPE = np.float16
DAYS_APART = 2  # event days this far from every day of a story's reports are another event's

_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:['\u2019-][^\W\d_]+)*")
# Digits stand apart from letters in no script without spaces ("37人"), so only digits bound a number.
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+|\d+(?:[.,]\d+)?)(?!\d|[.,]\d)")
_SENTENCE_END = frozenset(".!?:;\"'()[]-\u00ab\u00bb\u201c\u201d\u201e\u2013\u2014")


@dataclass(frozen=True, slots=True)
class Features:
    """An article's event features: 64-bit keys (sorted), their weights (WEIGHT_DTYPE) and kinds (KIND_CODES)."""

    keys: np.ndarray
    weights: np.ndarray
    kinds: np.ndarray

    @classmethod
    def empty(cls) -> Features:
        return cls(np.empty(0, np.uint64), np.empty(0, WEIGHT_DTYPE), np.empty(0, np.uint8))

    @property
    def portable(self) -> np.ndarray:
        """Names and numbers: the features that carry across languages."""
        return np.asarray(self.kinds != KIND_CODES[TERM])


@dataclass(frozen=True, slots=True)
class Member:
    """What the index keeps of an article: its story, time, language and features (none for a copy)."""

    article_id: str
    story_id: str
    published_at: float  # POSIX seconds
    language: str | None
    features: Features
    day: int = 0  # the event's day as the opening names it (proleptic ordinal), 0 when it names none


@dataclass(frozen=True, slots=True)
class MemberColumns:
    """Many members as columns, as the bucket's index keeps them: their features end to end, member i's at
    `bounds[i]:bounds[i + 1]`."""

    article_ids: list[str]
    story_ids: list[str]
    published_at: np.ndarray  # POSIX seconds
    languages: list[str | None]
    days: np.ndarray
    keys: np.ndarray
    weights: np.ndarray
    kinds: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, members: Iterable[Member]) -> MemberColumns:
        rows = list(members)
        sizes = [len(m.features.keys) for m in rows]

        def joined(field: str, dtype: type) -> np.ndarray:
            return np.concatenate([np.empty(0, dtype), *(getattr(m.features, field) for m in rows)]).astype(dtype)

        return cls(
            [m.article_id for m in rows],
            [m.story_id for m in rows],
            np.array([m.published_at for m in rows], dtype=np.float64),
            [m.language for m in rows],
            np.array([m.day for m in rows], dtype=np.int64),
            joined("keys", np.uint64),
            joined("weights", WEIGHT_DTYPE),
            joined("kinds", np.uint8),
            np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))),
        )

    def without(self, known: Container[str]) -> MemberColumns:
        """These columns less the members in `known` and repeats of one member."""
        keep, seen = [], set()
        for i, article_id in enumerate(self.article_ids):
            if article_id not in known and article_id not in seen:
                keep.append(i)
                seen.add(article_id)
        if len(keep) == len(self.article_ids):
            return self
        sizes = np.diff(self.bounds)[keep]
        at = np.repeat(self.bounds[:-1][keep] - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        return MemberColumns(
            [self.article_ids[i] for i in keep],
            [self.story_ids[i] for i in keep],
            self.published_at[keep],
            [self.languages[i] for i in keep],
            self.days[keep],
            self.keys[at],
            self.weights[at],
            self.kinds[at],
            np.concatenate(([0], np.cumsum(sizes))),
        )


def _fold(text: str) -> str:
    """Casefold and transliterate, so "Київ", "Kyiv" and "KYIV" meet."""
    return anyascii(unicodedata.normalize("NFC", text)).casefold()


@lru_cache(maxsize=1 << 16)
def _skeleton(word: str) -> str:
    """A name's spelling reduced to what transliterations agree on: letters and digits, y as i, w as v, no doubles."""
    folded = re.sub(r"[^a-z0-9]", "", _fold(word)).replace("y", "i").replace("w", "v").replace("ph", "f")
    return re.sub(r"(.)\1+", r"\1", folded)[:NAME_STEM]


def _number(raw: str) -> str | None:
    """A number in one spelling whatever the locale wrote ("80,000", "80 000" and "80.000"; "6,1" and "6.1")."""
    groups = re.split(r"[ \u00a0\u202f,.]", raw)
    thousands = len(groups) > 1 and all(len(g) == 3 for g in groups[1:])
    value = "".join(groups) if thousands else raw.replace(",", ".")
    if "." not in value and len(value) < 2:
        return None  # single digits are everywhere: one, two, first
    return value.lstrip("0") or "0"


def _names(words: list[tuple[str, int]], text: str) -> list[tuple[str, str]]:
    """(skeleton, surface) of the capitalised words inside a sentence: names, in the languages that mark them."""
    found = []
    for word, start in words:
        if not word[0].isupper() or (word.isupper() and len(word) > 5):
            continue
        i = start - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        if i >= 0 and text[i] not in _SENTENCE_END:
            found.append((_skeleton(word), word))
    return [(s, surface) for s, surface in found if len(s) >= 3]


def _parts(article: Article) -> list[tuple[str, float]]:
    """The title and the opening paragraphs, each with its weight: the lead says what happened, later
    paragraphs add background, often about other events."""
    parts = [(article.title, TITLE_WEIGHT)]
    words = 0
    for n, paragraph in enumerate(p for p in article.text.split("\n\n") if p.strip()):
        if words >= MAX_WORDS:
            break
        parts.append((paragraph, PARAGRAPH_WEIGHTS[min(n, len(PARAGRAPH_WEIGHTS) - 1)]))
        words += len(paragraph.split())
    return parts


_UNTOKENISED: set[str] = set()


@lru_cache(maxsize=1)
def _known_languages() -> frozenset[str]:
    return frozenset(wordfreq.available_languages())


@lru_cache(maxsize=1 << 16)  # the common words: a bigger cache costs tens of MB and gains little
def _rarity(word: str, language: str | None) -> float:
    """How much a word can say about an event, from how common it is in the language (wordfreq's Zipf scale:
    7 for "the", 6 for "said", 4 for "earthquake"): a window of a few dozen articles cannot tell that alone."""
    if language not in _known_languages() or language in _UNTOKENISED:
        return 1.0
    try:
        zipf = _zipf(word, language)
    except ImportError:  # Chinese, Japanese, Korean need a word segmenter wordfreq does not ship
        _UNTOKENISED.add(language)
        return 1.0
    return min(1.0, max(RARITY_FLOOR, (COMMON_ZIPF - zipf) / (COMMON_ZIPF - RARE_ZIPF)))


@lru_cache(maxsize=1 << 17)  # the same words recur article after article
def _term(word: str, language: str | None) -> tuple[int, float] | None:
    """A word's term feature: its key and rarity, None when it is too short or not a word."""
    folded = _fold(word)
    if len(folded) < TERM_MIN or not folded.isalpha():
        return None
    return _key(TERM, folded[:STEM]), _rarity(word.casefold(), language)


@lru_cache(maxsize=64)
def _frequencies(language: str) -> dict[str, float]:
    return wordfreq.get_frequency_dict(language, wordlist="small")  # 3 MB a language, not 30-70


_MIN_FREQUENCY = wordfreq.zipf_to_freq(0)


def _zipf(word: str, language: str) -> float:
    """wordfreq's Zipf frequency of `word`; a word of plain ASCII letters is one token in the languages written
    with spaces, looked up in the frequency table directly (wordfreq's tokenizer costs 30 us a word)."""
    if not (word.isascii() and word.isalpha()) or language in _SEGMENTED:
        return float(wordfreq.zipf_frequency(word, language, wordlist="small"))
    frequency = _frequencies(language).get(word)
    if frequency is None:
        value = _MIN_FREQUENCY
    else:
        # wordfreq keeps three significant digits.
        value = max(frequency, _MIN_FREQUENCY)
        value = round(value, math.floor(-math.log(value, 10)) + 3)
    return round(wordfreq.freq_to_zipf(value), 2)


_SEGMENTED = frozenset({"zh", "ja", "ko", "th", "my", "km", "lo", "bo"})  # no spaces between words


def _labelled(article: Article) -> list[tuple[int, str, float]]:
    """Every feature occurrence of `article`: (key, kind, weight)."""
    occurrences = [
        (_key(NAME, s), NAME, 1.0)
        for e in article.entities
        for s in map(_skeleton, _TOKEN.findall(e.name))
        if len(s) >= 3
    ]
    # A named entity's words also by what their spellings in every script share ("Mitchell", "ミッチェル"):
    # scripts without capitals (katakana) mark no names in the text, so their entities are all there is.
    occurrences += [
        (_key(NAME, f"~{k}"), NAME, 1.0)
        for e in article.entities
        for k in name_key(e.name).split()
        if len(k) >= KEY_MIN
    ]
    language = article.language
    for part, weight in _parts(article):
        words = [(m[0], m.start()) for m in _TOKEN.finditer(part)]
        for word, _ in words:
            term = _term(word, language)
            if term is not None:
                occurrences.append((term[0], TERM, weight * term[1]))
        occurrences.extend((_key(NAME, skeleton), NAME, weight) for skeleton, _ in _names(words, part))
        for match in _NUMBER.finditer(part):
            value = _number(match[1])
            if value is not None:
                occurrences.append((_key(NUMBER, value), NUMBER, weight))
    return occurrences


@lru_cache(maxsize=1 << 16)
def _key(kind: str, text: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{kind}:{text}".encode(), digest_size=8).digest(), "little")


def event_features(article: Article) -> Features:
    """The features of `article` that say which event it reports."""
    weight: dict[int, float] = {}
    kind_of: dict[int, str] = {}
    for key, kind, w in _labelled(article):
        weight[key] = weight.get(key, 0.0) + w
        kind_of.setdefault(key, kind)
    if not weight:
        return Features.empty()
    keys = np.fromiter(weight, np.uint64, len(weight))
    # Repeats count less than new features: log(1 + weighted count).
    weights = np.log1p(np.fromiter(weight.values(), np.float64, len(weight)))
    codes = [KIND_CODES[k] for k in kind_of.values()]
    weights *= np.array([KIND_WEIGHT[k] for k in kind_of.values()])
    order = np.argsort(keys)
    return Features(keys[order], weights[order].astype(WEIGHT_DTYPE), np.array(codes, np.uint8)[order])


def readable_features(article: Article) -> dict[int, tuple[str, str]]:
    """Feature key -> (kind, how the article wrote it): the words of a story's explanation."""
    readable: dict[int, tuple[str, str]] = {}
    for entity in article.entities:
        for part in _TOKEN.findall(entity.name):
            readable.setdefault(_key(NAME, _skeleton(part)), (NAME, entity.name))
    for part in (article.title, article.text):
        words = [(m[0], m.start()) for m in _TOKEN.finditer(part)][:MAX_WORDS]
        for skeleton, surface in _names(words, part):
            readable.setdefault(_key(NAME, skeleton), (NAME, surface))
        for match in _NUMBER.finditer(part):
            value = _number(match[1])
            if value is not None:
                readable.setdefault(_key(NUMBER, value), (NUMBER, match[1]))
        for word, _ in words:
            folded = _fold(word)
            if len(folded) >= TERM_MIN and folded.isalpha():
                readable.setdefault(_key(TERM, folded[:STEM]), (TERM, word.casefold()))
    return readable


@dataclass(frozen=True, slots=True)
class _Profile:
    """A story's latest members, averaged: keys (sorted), IDF-weighted values, kinds, when they were published,
    and the norms of the values, all and of names and numbers alone."""

    keys: np.ndarray
    values: np.ndarray
    kinds: np.ndarray
    times: np.ndarray
    norm: float = 0.0
    portable_norm: float = 0.0

    @classmethod
    def of(cls, keys: np.ndarray, values: np.ndarray, kinds: np.ndarray, times: np.ndarray) -> _Profile:
        values = values.astype(np.float32, copy=False)  # a half-precision sum of squares would overflow
        portable = values[kinds != KIND_CODES[TERM]]
        return cls(keys, values, kinds, times, float(np.linalg.norm(values)), float(np.linalg.norm(portable)))


class _Counts:
    """How many members hold each key: a sorted array of the keys seen, and a dict of those seen since, folded
    into the array while still small (every lookup of a key also looks in the dict)."""

    MERGE_AT = 1 << 12

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._counts = np.empty(0, dtype=np.int32)
        self._recent: dict[int, int] = {}

    def add(self, keys: np.ndarray) -> None:
        """Count each of `keys` once more (one member's keys, or many members' at once)."""
        if len(keys) > self.MERGE_AT:
            self._merge(*np.unique(keys, return_counts=True))
            return
        recent = self._recent
        for key in keys.tolist():
            recent[key] = recent.get(key, 0) + 1
        if len(recent) >= self.MERGE_AT:
            self._recent = {}
            keys = np.fromiter(recent, np.uint64, len(recent))
            order = np.argsort(keys)
            self._merge(keys[order], np.fromiter(recent.values(), np.int32, len(recent))[order])

    def _merge(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add `counts` of `keys` (sorted, unique): in place for the keys known, inserted for the others."""
        at = np.searchsorted(self._keys, keys)
        known = at < len(self._keys)
        known[known] = self._keys[at[known]] == keys[known]
        np.add.at(self._counts, at[known], counts[known])
        new = ~known
        self._keys = np.insert(self._keys, at[new], keys[new])
        self._counts = np.insert(self._counts, at[new], counts[new].astype(np.int32))

    def get(self, keys: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(self._keys, keys), max(len(self._keys) - 1, 0))
        found = np.where(self._keys[at] == keys, self._counts[at], 0) if len(self._keys) else np.zeros(len(keys))
        found = found.astype(np.int64)
        if self._recent:
            recent = self._recent.get
            found += np.fromiter((recent(k, 0) for k in keys.tolist()), np.int64, len(keys))
        return found


class _Features:
    """Every member's features end to end in chunks of preallocated arrays: no Python object per member.
    Besides keys, weights and kinds, each feature's weight times its IDF when the member joined (its vector)."""

    CHUNK = 1 << 20

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._fill = self.CHUNK
        self._spans: list[tuple[int, int, int]] = []  # per member: chunk, start, stop

    def append(self, features: Features) -> None:
        size = len(features.keys)
        if not self._chunks or self._fill + size > self.CHUNK:  # the first member may have no features
            chunk = max(self.CHUNK, size)
            self._chunks.append(
                (
                    np.empty(chunk, np.uint64),
                    np.empty(chunk, WEIGHT_DTYPE),
                    np.empty(chunk, np.uint8),
                    np.empty(chunk, WEIGHT_DTYPE),
                )
            )
            self._fill = 0
        keys, weights, kinds, _ = self._chunks[-1]
        start, self._fill = self._fill, self._fill + size
        keys[start : self._fill], weights[start : self._fill], kinds[start : self._fill] = (
            features.keys,
            features.weights,
            features.kinds,
        )
        self._spans.append((len(self._chunks) - 1, start, self._fill))

    def adopt(self, keys: np.ndarray, weights: np.ndarray, kinds: np.ndarray, bounds: np.ndarray) -> int:
        """Take many members' features as they are (a loaded window's arrays, not copied): their chunk."""
        self._chunks.append(
            (
                keys.astype(np.uint64, copy=False),
                weights.astype(WEIGHT_DTYPE, copy=False),
                kinds.astype(np.uint8, copy=False),
                np.zeros(len(keys), WEIGHT_DTYPE),
            )
        )
        self._fill = self.CHUNK + 1  # the next append starts a chunk of its own: these arrays may be read-only
        chunk = len(self._chunks) - 1
        self._spans.extend((chunk, a, b) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        return chunk

    def set_vectors(self, chunk: int, start: int, stop: int, vectors: np.ndarray) -> None:
        self._chunks[chunk][3][start:stop] = vectors

    def set_vector(self, position: int, vector: np.ndarray) -> None:
        chunk, start, stop = self._spans[position]
        if stop > start:
            self._chunks[chunk][3][start:stop] = vector

    def vector(self, position: int) -> np.ndarray:
        chunk, start, stop = self._spans[position]
        return self._chunks[chunk][3][start:stop] if stop > start else np.empty(0, WEIGHT_DTYPE)

    def __getitem__(self, position: int) -> Features:
        chunk, start, stop = self._spans[position]
        if start == stop:
            return Features.empty()
        keys, weights, kinds, _ = self._chunks[chunk]
        return Features(keys[start:stop], weights[start:stop], kinds[start:stop])

    def size(self, position: int) -> int:
        _, start, stop = self._spans[position]
        return stop - start


class EventIndex:
    """The members of a window's stories, searchable by their rare features.

    Features are kept end to end in arrays, weighted by their IDF when the member joins (or when the window is
    loaded): the IDF of the window as it was then. Only rare features (the ones that find candidates) have
    postings, so a common word costs its key's count and nothing more.
    """

    def __init__(self, members: Iterable[Member] = ()) -> None:
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self._times: list[float] = []
        self._event_days: list[int] = []
        self._languages: list[str | None] = []
        self._features = _Features()
        self._stories: dict[str, list[int]] = {}
        self._started: dict[str, float] = {}  # story -> its earliest member's time
        self._days: dict[str, set[int]] = {}  # story -> the event days its reports name
        self._story_languages: dict[str, set[str | None]] = {}  # story -> its members' with features
        # Profiles of stories with several members, all or in one language, until one joins: the latest used.
        self._profiles: OrderedDict[tuple[str, str | None], _Profile] = OrderedDict()
        self._story_names: list[str] = []  # story number -> id
        self._story_number: dict[str, int] = {}
        self._story_numbers = np.empty(1024, dtype=np.int64)  # position -> story number (grown by doubling)
        self._counts = _Counts()
        self._postings = Postings()  # of rare features only
        self._featured = 0  # members with features: the N of the IDF
        members = list(members)
        if members:
            self.load([MemberColumns.of(members)])

    def load(self, window: Iterable[MemberColumns]) -> None:
        """Add a stored window's members in the stories they were placed in, their features weighted by the IDF of
        the whole window, a slice of members at a time (a slice's temporary arrays, not the window's)."""
        parts = []
        for columns in window:
            part = columns.without(self._position)
            if not part.article_ids:
                continue
            first = len(self._ids)
            chunk = self._features.adopt(part.keys, part.weights, part.kinds, part.bounds)
            sizes = np.diff(part.bounds).tolist()
            for i, article_id in enumerate(part.article_ids):
                when, day = float(part.published_at[i]), int(part.days[i])
                self._remember(article_id, part.story_ids[i], when, part.languages[i], day, sizes[i] > 0)
            for start, stop in _slices(part.bounds):
                self._counts.add(part.keys[part.bounds[start] : part.bounds[stop]])
            parts.append((first, chunk, part))
        for first, chunk, part in parts:
            for start, stop in _slices(part.bounds):
                lo, hi = int(part.bounds[start]), int(part.bounds[stop])
                keys = part.keys[lo:hi]
                df = self._counts.get(keys)
                owners = np.repeat(
                    np.arange(first + start, first + stop, dtype=np.int32), np.diff(part.bounds[start : stop + 1])
                )
                rare = df <= self._posting_limit()
                self._postings.extend(owners[rare], keys[rare])
                self._features.set_vectors(chunk, lo, hi, part.weights[lo:hi] * self._idf_of(df))
        self._profiles.clear()  # made with the IDF before these members

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._position

    def get(self, article_id: str) -> Member | None:
        position = self._position.get(article_id)
        return None if position is None else self._member(position)

    def place(
        self, article_id: str, published_at: datetime, language: str | None, features: Features, day: int = 0
    ) -> Member:
        """Add an article to the story it reports, or start one; a known article keeps its place. `day` is the
        event's day the article names (proleptic ordinal), 0 when it names none."""
        if article_id in self._position:
            return self._member(self._position[article_id])
        when = published_at.timestamp()
        df = self._counts.get(features.keys)
        vector = features.weights * self._idf_of(df)
        story = self._best_story(when, day, language, features, df, vector) or article_id
        return self._add(Member(article_id, story, when, language, features, day), vector, df + 1)

    def join(self, article_id: str, story_id: str, published_at: datetime, language: str | None) -> Member:
        """Add a copy to its original's story: it counts as coverage but adds no features."""
        known = self.get(article_id)
        if known is not None:
            return known
        empty = np.empty(0, WEIGHT_DTYPE)
        return self._add(
            Member(article_id, story_id, published_at.timestamp(), language, Features.empty()), empty, empty
        )

    def members(self) -> list[Member]:
        return [self._member(p) for p in range(len(self._ids))]

    def _member(self, position: int) -> Member:
        story = self._story_names[int(self._story_numbers[position])]
        features = self._features[position]
        language, day = self._languages[position], self._event_days[position]
        return Member(self._ids[position], story, self._times[position], language, features, day)

    def _idf_of(self, df: np.ndarray) -> np.ndarray:
        return np.log((self._featured + 1) / (df + 1)).astype(np.float32) + 1

    def _rare_limit(self) -> float:
        return max(RARE_FLOOR, RARE_SHARE * self._featured)

    def _posting_limit(self) -> float:
        # Twice the rare limit: a feature rare later in a growing window still has its postings.
        return 2 * self._rare_limit()

    def _best_story(
        self, when: float, day: int, language: str | None, features: Features, df: np.ndarray, vector: np.ndarray
    ) -> str | None:
        if not len(features.keys) or not self._featured:
            return None
        rare = (df > 0) & (df <= self._rare_limit())
        feature, owners = self._postings.pairs(features.keys[rare])
        if not len(owners):
            return None
        # Each story's shared rare weight: every feature counted once per story, not once per member.
        stories = self._story_numbers[owners]
        pairs = np.sort(feature * len(self._story_names) + stories)
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        weight = np.bincount(pairs % len(self._story_names), weights=vector[rare][pairs // len(self._story_names)])
        candidates = np.flatnonzero(weight)
        candidates = candidates[np.lexsort((candidates, -weight[candidates]))][:CANDIDATE_STORIES]
        article = _Article(features, vector)
        best: tuple[float, str] | None = None
        for story in (self._story_names[n] for n in candidates.tolist()):
            if self._another_day(story, day):
                continue
            # Words match within a language: against the members in the article's; names and numbers against all.
            everyone = self._profile(story)
            mine = self._profile(story, language)
            # Names alone carry a report only to a story with no member in its language yet.
            alone = mine is not everyone and not len(mine.keys)
            same, cross = _similarities(everyone, when, article, alone)
            if mine is not everyone:
                same = _similarities(mine, when, article)[0]
            score = max(same / JOIN_SIMILARITY, cross / CROSS_LANGUAGE_SIMILARITY)
            # Of the stories it fits, a report joins the one that began first: a later one it also fits is the
            # same event restarted (a follow-up that opened its own story), and the story continues.
            started = -self._started[story]
            if score >= 1 and (best is None or (started, story) > best):
                best = (started, story)
        return None if best is None else best[1]

    def _another_day(self, story: str, day: int) -> bool:
        """Whether `day` is clearly not a day of the story's event: far from every day its reports name."""
        days = self._days.get(story)
        return bool(day and days and min(abs(day - d) for d in days) >= DAYS_APART)

    def _profile(self, story: str, language: str | None = ALL_LANGUAGES) -> _Profile:
        """The story's profile, of its members in `language` (and those of no known language) or of all."""
        if language is None or self._story_languages.get(story, set()) <= {language, None}:
            language = ALL_LANGUAGES  # every member counts: one profile serves both
        cached = self._profiles.get((story, language))
        if cached is not None:
            self._profiles.move_to_end((story, language))
            return cached
        positions = [
            p
            for p in self._stories[story]
            if self._features.size(p) and (language == ALL_LANGUAGES or self._languages[p] in (language, None))
        ]
        positions = sorted(positions, key=lambda p: self._times[p])[-PROFILE_MEMBERS:]
        times = np.array([self._times[p] for p in positions])
        if not positions:
            return _Profile(np.empty(0, np.uint64), np.empty(0, np.float32), np.empty(0, np.uint8), times)
        members = [self._features[p] for p in positions]
        if len(members) == 1:  # most stories: no averaging to do, and nothing worth caching
            return _Profile.of(members[0].keys, self._features.vector(positions[0]), members[0].kinds, times)
        keys = np.concatenate([f.keys for f in members])
        weights = np.concatenate([self._features.vector(p) for p in positions])
        profile_keys, inverse = np.unique(keys, return_inverse=True)
        values = np.bincount(inverse, weights=weights)
        kinds = np.zeros(len(profile_keys), dtype=np.uint8)
        kinds[inverse] = np.concatenate([f.kinds for f in members])
        profile = _Profile.of(profile_keys, (values / len(members)).astype(np.float32), kinds, times)
        if language not in self._story_languages[story] | {ALL_LANGUAGES}:
            return profile  # of its members of no known language: a joining member would not clear it
        self._profiles[story, language] = profile
        if len(self._profiles) > PROFILE_CACHE:
            self._profiles.popitem(last=False)
        return profile

    def _remember(
        self, article_id: str, story_id: str, published_at: float, language: str | None, day: int, featured: bool
    ) -> int:
        position = len(self._ids)
        number = self._story_number.setdefault(story_id, len(self._story_names))
        if number == len(self._story_names):
            self._story_names.append(story_id)
        if position == len(self._story_numbers):
            self._story_numbers = np.concatenate([self._story_numbers, np.empty_like(self._story_numbers)])
        self._story_numbers[position] = number
        self._ids.append(article_id)
        self._times.append(published_at)
        self._event_days.append(day)
        self._languages.append(language)
        self._position[article_id] = position
        self._stories.setdefault(story_id, []).append(position)
        self._started[story_id] = min(self._started.get(story_id, published_at), published_at)
        if day:
            self._days.setdefault(story_id, set()).add(day)
        if featured:
            self._featured += 1
            self._story_languages.setdefault(story_id, set()).add(language)
        return position

    def _add(self, member: Member, vector: np.ndarray, df: np.ndarray) -> Member:
        """Add a placed member: `vector` its weights times their IDF, `df` its features' counts with it."""
        story, keys = member.story_id, member.features.keys
        position = self._remember(
            member.article_id, story, member.published_at, member.language, member.day, bool(len(keys))
        )
        self._features.append(member.features)
        self._features.set_vector(position, vector)
        for language in {self._languages[p] for p in self._stories[story]} | {ALL_LANGUAGES}:
            self._profiles.pop((story, language), None)
        self._counts.add(keys)
        self._postings.add(position, keys[df <= self._posting_limit()])
        return member


def _slices(bounds: np.ndarray, features: int = 1 << 20) -> list[tuple[int, int]]:
    """Runs of members (start, stop) with about `features` features each, for loading a window piece by piece."""
    cuts = np.searchsorted(bounds, np.arange(features, int(bounds[-1]), features), side="right") - 1
    edges = sorted({0, len(bounds) - 1, *cuts.tolist()})
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


class _Article:
    """An article as it is compared with profiles: its features, IDF-weighted vector and their norms."""

    __slots__ = ("features", "norm", "portable", "portable_norm", "vector")

    def __init__(self, features: Features, vector: np.ndarray) -> None:
        self.features, self.vector = features, vector
        self.norm = float(np.linalg.norm(vector))
        self.portable = features.portable  # the names and numbers
        self.portable_norm = float(np.linalg.norm(vector[self.portable]))


def _similarities(profile: _Profile, when: float, article: _Article, names: bool = False) -> tuple[float, float]:
    """Cosine of the article and the profile on every feature, and on names and numbers alone (another
    language: only those can match, and a number must, for places recur in the news; several names may instead
    when `names`), both fading with the time since the profile's nearest member."""
    if not len(profile.keys):
        return 0.0, 0.0
    keys = article.features.keys
    at = np.minimum(np.searchsorted(profile.keys, keys), len(profile.keys) - 1)
    mine = np.flatnonzero(profile.keys[at] == keys)
    products = article.vector[mine] * profile.values[at[mine]]
    gap_days = float(np.min(np.abs(profile.times - when))) / 86400
    fade = float(0.5 ** (gap_days / HALF_LIFE_DAYS))
    same = cross = 0.0
    norm = article.norm * profile.norm
    if np.count_nonzero(products) >= MIN_SHARED and norm:
        same = float(products.sum()) / norm * fade
    portable = article.portable[mine]
    norm = article.portable_norm * profile.portable_norm
    shared = products[portable]
    numbered = np.any(article.features.kinds[mine] == KIND_CODES[NUMBER])
    if norm and (numbered or names) and np.count_nonzero(shared) >= (MIN_SHARED if numbered else MIN_SHARED_NAMES):
        cross = float(shared.sum()) / norm * fade
    return same, cross


def _opening(article: Article) -> list[str]:
    """The title and first paragraph: where a report says when its event happened."""
    first = next((p for p in article.text.split("\n\n") if p.strip()), "")
    return [article.title, first]


@dataclass(frozen=True, slots=True)
class Placement:
    story_id: str
    duplicate_of: str | None


def place_articles(copies: CopyIndex, events: EventIndex, articles: Sequence[Article]) -> dict[str, Placement]:
    """Place `articles`, earliest first: a copy joins its original's story, a report the story of its event."""
    placed = {}
    for article in sorted(articles, key=lambda a: (a.published_at, a.id)):
        signed = copies.place(article.id, article.content_hash, signature(article.title, article.text))
        original = None if signed.duplicate_of is None else events.get(signed.duplicate_of)
        if original is not None:
            member = events.join(article.id, original.story_id, article.published_at, article.language)
        else:
            features = event_features(article)
            day = event_day(_opening(article), article.language, article.published_at)
            member = events.place(article.id, article.published_at, article.language, features, day)
        placed[article.id] = Placement(member.story_id, signed.duplicate_of)
    return placed
