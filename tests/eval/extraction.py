"""Score article-page extraction on the article-extraction benchmark (../shared/corpora), with its own metric.

Each page goes through the pipeline's own path: `extract_page`, the page merged into an item, `normalise_item`;
the article's text is compared with the benchmark's `articleBody`. Tokens are `\\w+` runs; each text becomes
its word 4-grams with counts; per page TP, FP and FN are normalised by their sum; precision and recall are
means over pages (pages with no predicted, or no true, 4-grams left out), F1 is computed from the two means.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from pipeline.fulltext import extract_page
from pipeline.models import RawItem
from pipeline.normalise import normalise_item, with_page
from tests.support.paths import CORPORA

BENCHMARK = CORPORA / "article-extraction-benchmark.tar.gz"
_TOKEN = re.compile(r"\w+")
_N = 4


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    html: bytes
    body: str


@dataclass(frozen=True)
class PageScore:
    key: str
    url: str
    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


@dataclass(frozen=True)
class Result:
    precision: float
    recall: float
    pages: list[PageScore]

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_pages(path: Path = BENCHMARK) -> list[Page]:
    """The benchmark's pages with their true bodies, read from the archive where it lies (never copied)."""
    with tarfile.open(path) as archive:
        members = {m.name.rsplit("/", 1)[-1]: m for m in archive.getmembers() if m.isfile()}
        truth_file = archive.extractfile(members["ground-truth.json"])
        assert truth_file is not None
        truth = json.load(truth_file)
        pages = []
        for key, entry in sorted(truth.items()):
            html_file = archive.extractfile(members[f"{key}.html.gz"])
            assert html_file is not None
            pages.append(Page(key, entry["url"], gzip.decompress(html_file.read()), entry.get("articleBody") or ""))
    return pages


def _grams(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + _N]) for i in range(len(tokens) - _N + 1))


def score_page(key: str, url: str, true: str, predicted: str) -> PageScore:
    """The page's TP, FP and FN 4-gram counts, divided by their sum."""
    expected, found = _grams(true), _grams(predicted)
    tp = sum((expected & found).values())
    fp = sum((found - expected).values())
    fn = sum((expected - found).values())
    total = tp + fp + fn
    return PageScore(key, url, tp / total, fp / total, fn / total) if total else PageScore(key, url, 0, 0, 0)


def score(pages: list[PageScore]) -> Result:
    precision = statistics.mean(p.precision for p in pages if p.tp + p.fp > 0)
    recall = statistics.mean(p.recall for p in pages if p.tp + p.fn > 0)
    return Result(precision, recall, pages)


def article_text(page: Page) -> str:
    """The text the pipeline stores for this page: extraction, the page's metadata, then normalisation."""
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    item = RawItem(source_id="benchmark", raw_key=page.key, index=0, fetched_at=fetched, url=page.url, sections=[])
    return normalise_item(with_page(item, extract_page(page.html, page.url))).text


def trafilatura_text(page: Page, **options: bool) -> str:
    """trafilatura's `extract()`, with its defaults (the published baseline) or the options given."""
    import trafilatura

    return trafilatura.extract(page.html, url=page.url, **options) or ""


def evaluate(extract: Callable[[Page], str] = article_text, pages: list[Page] | None = None) -> Result:
    pages = load_pages() if pages is None else pages
    return score([score_page(p.key, p.url, p.body, extract(p)) for p in pages])


def worst(result: Result, count: int = 8) -> Iterator[PageScore]:
    yield from sorted(result.pages, key=lambda p: min(p.precision, p.recall))[:count]


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not BENCHMARK.exists():
        console.print(f"article extraction: skipped, {BENCHMARK} is absent (see ../shared/corpora/README.md)")
        return
    pages = load_pages()
    # The configurations the pipeline's extraction was chosen among, measured in the same run.
    results = {
        "pipeline": evaluate(article_text, pages),
        "trafilatura extract()": evaluate(trafilatura_text, pages),
        "  favor_precision, no comments": evaluate(
            partial(trafilatura_text, favor_precision=True, include_comments=False), pages
        ),
        "  favor_recall, no comments": evaluate(
            partial(trafilatura_text, favor_recall=True, include_comments=False), pages
        ),
    }
    table = Table(title=f"Article extraction on {len(pages)} pages ({BENCHMARK.name}, 4-gram metric)")
    for column in ("extractor", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "extractor" else "right")
    for name, result in results.items():
        table.add_row(name, f"{result.precision:.3f}", f"{result.recall:.3f}", f"{result.f1:.3f}")
    console.print(table)
    console.print("worst pages (pipeline):")
    for page in worst(results["pipeline"]):
        console.print(f"  P {page.precision:.2f}  R {page.recall:.2f}  {page.url}", soft_wrap=True)


if __name__ == "__main__":
    main()
