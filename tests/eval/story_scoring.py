"""Score event stories on the labelled set in stories.toml: pairwise and B-cubed, languages, distractors."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.enrich import Enricher
from pipeline.enrich.dedup import CopyIndex
from pipeline.enrich.events import (
    KIND_CODES,
    NAME,
    NUMBER,
    EventIndex,
    event_features,
    place_articles,
    readable_features,
)
from pipeline.models import Article
from pipeline.settings import Settings
from tests.support.stories import STORY_SET, load_story_set, story_article

ARRIVAL_ORDERS = 3  # shuffled arrivals scored besides the chronological one
ARRIVAL_BATCH = 4  # articles a run places at once when they arrive shuffled
SHOWN_FEATURES = 8  # shared features printed per wrong or missed pair


@dataclass
class Clustering:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class StoryScores:
    articles: int
    events: int
    pairwise: Clustering
    bcubed: Clustering
    cross_lingual_recall: float
    cross_lingual_pairs: int
    distractors: int
    distractors_merged: list[str]
    copies_marked: float
    shuffled_bcubed_f1: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def pairwise(gold: dict[str, str], found: dict[str, str]) -> Clustering:
    """Precision and recall of the pairs put together."""
    expected = {p for p in itertools.combinations(sorted(gold), 2) if gold[p[0]] == gold[p[1]]}
    together = {p for p in itertools.combinations(sorted(gold), 2) if found[p[0]] == found[p[1]]}
    hits = len(expected & together)
    return Clustering(hits / len(together) if together else 1.0, hits / len(expected) if expected else 1.0)


def bcubed(gold: dict[str, str], found: dict[str, str]) -> Clustering:
    """B-cubed precision and recall: per article, the share of its story of its event, and of its event in its story."""
    by_gold, by_found = defaultdict(set), defaultdict(set)
    for item in gold:
        by_gold[gold[item]].add(item)
        by_found[found[item]].add(item)
    precision = recall = 0.0
    for item in gold:
        same = len(by_gold[gold[item]] & by_found[found[item]])
        precision += same / len(by_found[found[item]])
        recall += same / len(by_gold[gold[item]])
    return Clustering(precision / len(gold), recall / len(gold)) if gold else Clustering(1.0, 1.0)


def main_languages(cases: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Event -> the language most of its articles are in."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        counts[case["event"]][case["language"]] += 1
    return {event: min(c, key=lambda lang: (-c[lang], lang)) for event, c in counts.items()}


def place(articles: Sequence[Article], batches: Sequence[Sequence[Article]] | None = None) -> dict[str, Any]:
    """Place the articles in one window, all at once or batch by batch as runs would."""
    copies, events = CopyIndex(), EventIndex()
    placed: dict[str, Any] = {}
    for batch in batches or [articles]:
        placed |= place_articles(copies, events, batch)
    return placed


def score(cases: Sequence[dict[str, Any]], placed: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    main = main_languages(cases)
    gold = {c["id"]: c["event"] for c in cases}
    found = {c["id"]: placed[ids[c["id"]]].story_id for c in cases}
    mono = [c["id"] for c in cases if c["language"] == main[c["event"]]]
    return {
        "gold": gold,
        "found": found,
        "pairwise": pairwise({i: gold[i] for i in mono}, found),
        "bcubed": bcubed({i: gold[i] for i in mono}, found),
    }


def explain_errors(cases: Sequence[dict[str, Any]], articles: Sequence[Article], found: dict[str, str]) -> list[str]:
    """Each merged distractor and each report apart from its event's main story, beside the article it was
    grouped with or should have been: cosine of IDF-weighted features (all, and names and numbers alone), and
    the features they share, heaviest first."""
    features = {c["id"]: event_features(a) for c, a in zip(cases, articles, strict=True)}
    readable = {c["id"]: readable_features(a) for c, a in zip(cases, articles, strict=True)}
    df: Counter[int] = Counter(k for f in features.values() for k in f.keys.tolist())

    def vector(case_id: str, portable: bool) -> dict[int, float]:
        f = features[case_id]
        return {
            int(k): float(w) * (math.log((len(cases) + 1) / (df[int(k)] + 1)) + 1)
            for k, w, kind in zip(f.keys.tolist(), f.weights.tolist(), f.kinds.tolist(), strict=True)
            if not portable or kind in (KIND_CODES[NAME], KIND_CODES[NUMBER])
        }

    def cosine(a: dict[int, float], b: dict[int, float]) -> float:
        norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
        return sum(v * b[k] for k, v in a.items() if k in b) / norm if norm else 0.0

    def line(kind: str, a: str, b: str) -> str:
        mine, theirs = vector(a, False), vector(b, False)
        shared = sorted((k for k in mine if k in theirs), key=lambda k: -mine[k] * theirs[k])[:SHOWN_FEATURES]
        words = ", ".join(readable[a].get(k, ("?", "?"))[1] for k in shared)
        return (
            f"{kind} {a} ~ {b}: cosine {cosine(mine, theirs):.3f}, names and numbers "
            f"{cosine(vector(a, True), vector(b, True)):.3f}; shared: {words}"
        )

    by_story: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_story[found[case["id"]]].append(case)
    errors = []
    for case in cases:
        story = by_story[found[case["id"]]]
        if case["role"] == "distractor":
            other = next((o for o in story if o["event"] != case["event"]), None)
            if other is not None:
                errors.append(line("merged", case["id"], other["id"]))
            continue
        event = [c for c in cases if c["event"] == case["event"]]
        main = Counter(found[c["id"]] for c in event).most_common(1)[0][0]
        if found[case["id"]] != main:
            nearest = max(
                (c for c in event if found[c["id"]] == main),
                key=lambda c: cosine(vector(case["id"], False), vector(c["id"], False)),
            )
            errors.append(line("apart", case["id"], nearest["id"]))
    return errors


def evaluate(settings: Settings | None = None) -> StoryScores:
    """Enrich the set, place it chronologically and in shuffled arrivals, and score the stories."""
    outlets, cases = load_story_set()
    engine = Enricher.from_settings(settings or Settings())
    articles = engine.enrich([story_article(c, outlets) for c in cases])
    ids = {c["id"]: a.id for c, a in zip(cases, articles, strict=True)}
    placed = place(articles)
    result = score(cases, placed, ids)
    gold, found = result["gold"], result["found"]
    main = main_languages(cases)
    cross = [
        (c["id"], o["id"])
        for c in cases
        if c["language"] != main[c["event"]] and c["role"] != "distractor"
        for o in cases
        if o["event"] == c["event"] and o["language"] == main[c["event"]]
    ]
    by_story: dict[str, set[str]] = defaultdict(set)
    for case_id, story in found.items():
        by_story[story].add(gold[case_id])
    distractors = [c for c in cases if c["role"] == "distractor"]
    copies = [c for c in cases if c["role"] == "copy"]
    shuffled = []
    for seed in range(ARRIVAL_ORDERS):
        order = list(articles)
        random.Random(seed).shuffle(order)
        batches = [order[i : i + ARRIVAL_BATCH] for i in range(0, len(order), ARRIVAL_BATCH)]
        shuffled.append(score(cases, place(articles, batches), ids)["bcubed"].f1)
    return StoryScores(
        articles=len(cases),
        events=len({c["event"] for c in cases}),
        pairwise=result["pairwise"],
        bcubed=result["bcubed"],
        cross_lingual_recall=sum(found[a] == found[b] for a, b in cross) / len(cross) if cross else 1.0,
        cross_lingual_pairs=len(cross),
        distractors=len(distractors),
        distractors_merged=sorted(c["id"] for c in distractors if len(by_story[found[c["id"]]]) > 1),
        copies_marked=sum(placed[ids[c["id"]]].duplicate_of is not None for c in copies) / len(copies)
        if copies
        else 1.0,
        shuffled_bcubed_f1=shuffled,
        errors=explain_errors(cases, articles, found),
    )


def print_scores() -> None:
    """Print the story scores, or why there are none."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not STORY_SET.exists():
        console.print(f"stories: no labelled set at {STORY_SET}")
        return
    s = evaluate()
    table = Table(title=f"Stories on {s.articles} labelled articles, {s.events} events ({STORY_SET.name})")
    for column in ("measure", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, c in (("pairwise (monolingual)", s.pairwise), ("B-cubed (monolingual)", s.bcubed)):
        table.add_row(name, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}")
    console.print(table)
    console.print(
        f"cross-lingual recall: {s.cross_lingual_recall:.3f} ({s.cross_lingual_pairs} pairs)   "
        f"distractors merged: {len(s.distractors_merged)} of {s.distractors} {s.distractors_merged or ''}   "
        f"copies marked: {s.copies_marked:.3f}   B-cubed F1 in shuffled arrivals: "
        + ", ".join(f"{f:.3f}" for f in s.shuffled_bcubed_f1)
    )
    for error in s.errors:
        console.print(error, markup=False, highlight=False, soft_wrap=True)
