"""Story placement over a 50,000-article window: event stories beside MinHash copy placement alone.

The window is made up, deterministically: events covered by one to a dozen outlets over a week, each report
written from the event's names, numbers and words mixed into Zipf-distributed background vocabulary, a tenth
of them copies, made one batch at a time as they are placed. Each side runs in its own process on one core, so
articles/s are per core and peak RSS is the process's; what the index holds is the peak less the process's
resident memory before the first batch is placed (libraries, the generator). Placement is timed in CPU seconds,
the bucket run (S3 round trips included) in wall-clock seconds. The share placement adds to the enrichment
stage is measured on real article texts (the article-extraction benchmark's `articleBody` texts, read from the
shared corpora), whose enrichment costs ten times the made-up texts'.
`python bench/stories.py SIDE` prints one side's numbers as JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import resource
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOW = 50_000
NEW = 1_000  # one more run's articles, placed against the full window
BATCH = 1_000  # articles a store run places at once
DAYS = 7
VOCABULARY = 30_000
START = datetime(2026, 3, 1, tzinfo=UTC)
CORPUS = Path("/work/shared/corpora/article-extraction-benchmark.tar.gz")  # real texts, read in place


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(syllables))


def made_article(
    number: str,
    source: str,
    title: str,
    paragraphs: list[str],
    published: datetime,
    content_hash: str,
    language: str | None = None,
) -> Any:
    """An article as normalisation leaves it, valid by construction (validating 51,000 would take a minute)."""
    from pipeline.models import Article, DateSource, Section, TextSource

    text = "\n\n".join(paragraphs)
    return Article.model_construct(
        id=number,
        source=source,
        source_name=source.title(),
        title=title,
        title_derived=False,
        lead=text[:200],
        published_at=published,
        published_date=published.date(),
        fetched_at=published,
        date_source=DateSource.FEED,
        sections=[Section(paragraphs=paragraphs)],
        text=text,
        language=language,
        content_hash=content_hash,
        raw_key=f"raw/bench/{number}",
        text_source=TextSource.FEED,
        date_flagged=False,
        authors=[],
        categories=[],
        entities=[],
        quotes=[],
        keywords=[],
        enrichment={},
        schema_version=1,
        revision=1,
    )


def window_articles(count: int = WINDOW + NEW) -> Iterator[Any]:
    """`count` articles in order of publication: independent reports of events, follow-ups and copies.

    Made one at a time as they are placed, so the benchmark holds a batch, not the window: the figures are the
    index's. Each report's words come from its own seed; a copy takes its original's text, made again."""

    rng = random.Random(2026)  # noqa: S311 - a repeatable sample, not a secret
    vocabulary = [_word(rng, 2 + n % 3) for n in range(VOCABULARY)]
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))  # Zipf
    planned: list[tuple[datetime, int, int, int]] = []  # published, number, event seed, report
    while len(planned) < count:
        event, when = rng.getrandbits(32), START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        for n in range(min(count - len(planned), rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 12]))):
            planned.append((when + timedelta(hours=rng.expovariate(1 / 6) * (n > 0)), len(planned), event, n))

    def written(event: int, n: int) -> tuple[str, str, bool]:
        facts = random.Random(event)  # noqa: S311
        names = [_word(facts, 3).title() for _ in range(5)]
        numbers = [str(facts.randint(10, 9999)) for _ in range(3)]
        terms = facts.choices(vocabulary[2000:], k=12)
        words_rng = random.Random(event * 64 + n)  # noqa: S311
        words = words_rng.choices(vocabulary, cum_weights=cumulative, k=words_rng.randint(150, 500))
        for fact in words_rng.sample(names, 3) + words_rng.sample(numbers, 2) + words_rng.sample(terms, 6):
            words.insert(words_rng.randrange(len(words)), fact)
        title = " ".join(
            [*words_rng.sample(names, 2), *words_rng.sample(terms, 3), *words_rng.choices(vocabulary, k=4)]
        )
        return title, " ".join(words), n > 0 and words_rng.random() < 0.1

    for published, number, event, n in sorted(planned):
        title, text, copy = written(event, n)
        if copy:  # a copy: the original's text, a new headline
            text = written(event, 0)[1]
        yield made_article(
            f"{number:032x}", f"outlet-{number * 7919 % 400}", title, [text], published, f"{number:064x}", "en"
        )


def _batches(articles: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(itertools.islice(articles, size)):
        yield batch


def _rss_mb() -> int:
    """The process's resident memory now (the peak is `_peak_rss_mb`)."""
    return round(int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20)


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_side(side: str) -> dict[str, Any]:
    """Place the window batch by batch, then one more run's articles against the full window."""
    from pipeline.enrich.dedup import CopyIndex, signature
    from pipeline.enrich.events import EventIndex, place_articles

    articles = window_articles()
    copies, events = CopyIndex(), EventIndex()

    def place(batch: list[Any]) -> None:
        if side == "minhash":
            for article in batch:
                copies.place(article.id, article.content_hash, signature(article.title, article.text))
        else:
            place_articles(copies, events, batch)

    batches = _batches(articles, BATCH)
    batch = next(batches)
    place(batch[:1])  # the libraries' lazily loaded parts (word frequencies) count as the process's, not the index's
    before = _rss_mb()
    # CPU time of this process, pinned to one core: per-core rates even when the machine is shared.
    seconds, placed = 0.0, 0
    while placed < WINDOW:
        batch = batch if placed == 0 else next(batches)
        start = time.process_time()
        place(batch)
        seconds += time.process_time() - start
        placed += len(batch)
    new = next(batches)
    start = time.process_time()
    place(new)
    full_window = time.process_time() - start
    stories = len({m.story_id for m in events.members()}) if side == "events" else None
    peak = _peak_rss_mb()
    return {
        "articles": placed,
        "seconds": seconds,
        "full_window_articles_per_s": len(new) / full_window,
        "stories": stories,
        "rss_mb": peak,
        "process_mb": before,
        "index_mb": peak - before,
    }


def real_articles(path: Path = CORPUS) -> list[Any]:
    """The corpus's real article texts (`articleBody`), their first line the title, dated an hour apart."""

    with tarfile.open(path) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("ground-truth.json"))
        handle = archive.extractfile(member)
        truth = json.loads(handle.read()) if handle is not None else {}
    articles = []
    for number, (key, page) in enumerate(sorted(truth.items())):
        lines = [line.strip() for line in str(page.get("articleBody") or "").splitlines() if line.strip()]
        if len(lines) < 2:
            continue
        published = START + timedelta(hours=number)
        paragraphs = lines[1:]
        text = "\n\n".join(paragraphs)
        articles.append(
            made_article(
                key[:32], "corpus", lines[0][:300], paragraphs, published, hashlib.sha256(text.encode()).hexdigest()
            )
        )
    return articles


def run_enrichment() -> dict[str, Any]:
    """The enrichment stage, then story placement alone, on the same real texts: the share placement adds."""
    from pipeline.enrich import Enricher
    from pipeline.enrich.dedup import CopyIndex
    from pipeline.enrich.events import EventIndex, place_articles
    from pipeline.settings import Settings

    if not CORPUS.exists():
        return {"skipped": f"no real article texts at {CORPUS}"}
    sample = real_articles()
    engine = Enricher.from_settings(Settings())
    engine.enrich(sample[:8])  # models warm
    start = time.process_time()
    enriched = [a for i in range(0, len(sample), 64) for a in engine.enrich(sample[i : i + 64])]
    seconds = time.process_time() - start
    place_articles(CopyIndex(), EventIndex(), enriched[:8])  # word frequencies loaded
    start = time.process_time()
    place_articles(CopyIndex(), EventIndex(), enriched)
    return {"articles": len(sample), "seconds": seconds, "placement_seconds": time.process_time() - start}


def run_bucket(settings_json: str) -> dict[str, Any]:
    """The store stage's placement with the index in the bucket: fill the window, then time one run of NEW."""
    from pipeline.settings import Settings
    from pipeline.storage.keys import STORIES_PREFIX
    from pipeline.storage.store import ObjectStore
    from pipeline.stories import assign_stories

    settings = Settings.model_validate_json(settings_json)
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    batches = _batches(window_articles(), 10 * BATCH)
    for _ in range(WINDOW // (10 * BATCH)):
        assign_stories(store, next(batches), DAYS)
    start = time.perf_counter()
    assign_stories(store, next(batches), DAYS)
    seconds = time.perf_counter() - start
    size = sum(len(store.get_bytes(k)) for k in store.list_keys(STORIES_PREFIX))
    return {"run_s": seconds, "index_mb": round(size / 2**20, 1), "rss_mb": _peak_rss_mb()}


def measure(*args: str) -> dict[str, Any]:
    # taskset keeps each side on one core, so the figures are per core whatever the machine.
    command = ["taskset", "-c", "0", sys.executable, __file__, *args]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_stories(settings: Any) -> dict[str, Any]:
    minhash, events, enrichment = measure("minhash"), measure("events"), measure("enrichment")
    bucket = measure("bucket", settings.model_dump_json())
    rate = events["articles"] / events["seconds"]
    result = {
        "window": WINDOW,
        "minhash_articles_per_s": round(minhash["articles"] / minhash["seconds"], 1),
        "minhash_rss_mb": minhash["rss_mb"],
        "events_articles_per_s": round(rate, 1),
        "events_full_window_articles_per_s": round(events["full_window_articles_per_s"], 1),
        "events_rss_mb": events["rss_mb"],
        "events_process_mb": events["process_mb"],
        "events_index_mb": events["index_mb"],
        "minhash_index_mb": minhash["index_mb"],
        "stories": events["stories"],
        "bucket_run_s": round(bucket["run_s"], 2),
        "bucket_new_articles": NEW,
        "bucket_index_mb": bucket["index_mb"],
        "bucket_rss_mb": bucket["rss_mb"],
        "goal": "at least 200 articles/s per core, at most 500 MB, at most 10% of the enrichment stage per article",
    }
    if "skipped" in enrichment:
        result["enrichment_skipped"] = enrichment["skipped"]
        print(f"stories: enrichment share not measured: {enrichment['skipped']}", file=sys.stderr)
        return result
    # Placement's time per article: against the full window (the index's share) and on the real texts
    # themselves (their feature extraction), the larger of the two against enrichment's time on those texts.
    enrich_s = enrichment["seconds"] / enrichment["articles"]
    real_s = enrichment["placement_seconds"] / enrichment["articles"]
    placement_s = max(1 / rate, real_s)
    result |= {
        "enrichment_real_articles": enrichment["articles"],
        "enrichment_articles_per_s": round(1 / enrich_s, 1),
        "placement_real_articles_per_s": round(1 / real_s, 1),
        "share_of_enrichment": round(placement_s / enrich_s, 3),
    }
    return result


if __name__ == "__main__":
    if sys.argv[1] == "bucket":
        print(json.dumps(run_bucket(sys.argv[2])))
    elif sys.argv[1] == "enrichment":
        print(json.dumps(run_enrichment()))
    else:
        print(json.dumps(run_side(sys.argv[1])))
