"""Score the enrichment stage against the labelled set in cases.toml (see README.md)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from pipeline.enrich import Enricher
from pipeline.enrich.dedup import CopyIndex
from pipeline.enrich.events import EventIndex, place_articles
from pipeline.models import Article, EntityType
from pipeline.settings import Settings
from tests.eval.extraction import main as score_extraction
from tests.eval.story_scoring import print_scores as print_story_scores
from tests.support.articles import LABELLED_CASES, load_cases, to_article

_ENTITY_FIELDS = {"people": EntityType.PERSON, "organisations": EntityType.ORGANISATION, "places": EntityType.PLACE}


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: set[Any], found: set[Any]) -> None:
        self.true_positives += len(expected & found)
        self.false_positives += len(found - expected)
        self.false_negatives += len(expected - found)


def evaluate(settings: Settings | None = None) -> dict[str, Score]:
    """Enrich every case and score entities (per type and overall), quotes, speakers, language and stories."""
    settings = settings or Settings()
    cases = load_cases()
    engine = Enricher.from_settings(settings)
    articles = engine.enrich([to_article(c) for c in cases])
    scores: dict[str, Score] = {name: Score() for name in [*_ENTITY_FIELDS, "entities", "quotes", "speakers"]}
    scores |= {"language": Score(), "story pairs": Score()}
    for case, article in zip(cases, articles, strict=True):
        labelled = case.get("people") is not None
        for field, kind in _ENTITY_FIELDS.items():
            if field not in case:
                continue  # not labelled for this language
            expected = {(kind, n) for n in case[field]}
            found = {(kind, e.name) for e in article.entities if e.type is kind}
            scores[field].add(expected, found)
            scores["entities"].add(expected, found)
            scores.setdefault(f"entities ({case['language']})", Score()).add(expected, found)
        if not labelled:  # places only: the other types must not be invented either
            others = {(e.type, e.name) for e in article.entities if e.type is not EntityType.PLACE}
            scores["entities"].add(set(), others)
            scores.setdefault(f"entities ({case['language']})", Score()).add(set(), others)
        _score_quotes(case, article, scores)
        scores["language"].add({case["language"]}, {article.language})
    _score_stories(cases, articles, scores["story pairs"])
    return scores


def _score_quotes(case: dict[str, Any], article: Article, scores: dict[str, Score]) -> None:
    matched: set[int] = set()
    for expected in case.get("quotes", []):
        hit = next((i for i, q in enumerate(article.quotes) if q.text.startswith(expected["starts"])), None)
        if hit is None:
            scores["quotes"].false_negatives += 1
            scores["speakers"].false_negatives += 1
            continue
        matched.add(hit)
        scores["quotes"].true_positives += 1
        if article.quotes[hit].speaker == expected.get("speaker"):  # no speaker: an unattributed quote
            scores["speakers"].true_positives += 1
        else:
            scores["speakers"].false_positives += 1
            scores["speakers"].false_negatives += 1
    scores["quotes"].false_positives += len(article.quotes) - len(matched)


def _score_stories(cases: list[dict[str, Any]], articles: list[Article], score: Score) -> None:
    """Pairwise: two articles should share a story exactly when they share a labelled group."""
    ordered = sorted(zip(cases, articles, strict=True), key=lambda ca: (ca[1].published_at, ca[1].id))
    placed = place_articles(CopyIndex(), EventIndex(), articles)
    story = {c["id"]: placed[a.id].story_id for c, a in ordered}
    expected, found = set(), set()
    for (a, _), (b, _) in itertools.combinations(ordered, 2):
        pair = (a["id"], b["id"])
        if a.get("group") and a.get("group") == b.get("group"):
            expected.add(pair)
        if story[a["id"]] == story[b["id"]]:
            found.add(pair)
    score.add(expected, found)


def speaker_accuracy(score: Score) -> float:
    expected = score.true_positives + score.false_negatives
    return score.true_positives / expected if expected else 1.0


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    scores = evaluate()
    table = Table(title=f"Enrichment on {len(load_cases())} labelled articles ({LABELLED_CASES.name})")
    for column in ("field", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name, s in scores.items():
        support = s.true_positives + s.false_negatives
        table.add_row(name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(support))
    console = Console()
    console.print(table)
    print_story_scores()
    console.print(
        f"speaker accuracy: {speaker_accuracy(scores['speakers']):.3f}   language accuracy: "
        f"{scores['language'].recall:.3f}"
    )
    score_extraction()
    from tests.eval.gum import print_gum  # here: gum.py uses this module's Score

    print_gum()


if __name__ == "__main__":
    main()
