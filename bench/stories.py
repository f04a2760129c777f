"""Story placement over a 50,000-article window: event stories beside MinHash copy placement alone.

The window is made up, deterministically: events covered by one to a dozen outlets over a week, each report
written from the event's names, numbers and words mixed into Zipf-distributed background vocabulary, a tenth
of them copies. Each side runs in its own process on one core, so articles/s are per core and peak RSS is the
process's; placement is timed in CPU seconds, the bucket run (S3 round trips included) in wall-clock seconds.
`python bench/stories.py SIDE` prints one side's numbers as JSON.
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import subprocess
import sys
import time
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


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(syllables))


def window_articles(count: int = WINDOW + NEW) -> list[Any]:
    """`count` articles in order of publication: independent reports of events, follow-ups and copies."""
    from pipeline.models import Article, DateSource, Section, TextSource

    rng = random.Random(2026)  # noqa: S311 - a repeatable sample, not a secret
    vocabulary = [_word(rng, 2 + n % 3) for n in range(VOCABULARY)]
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))  # Zipf
    made: list[Article] = []
    while len(made) < count:
        names = [_word(rng, 3).title() for _ in range(5)]
        numbers = [str(rng.randint(10, 9999)) for _ in range(3)]
        terms = rng.choices(vocabulary[2000:], k=12)
        when = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        reports = min(count - len(made), rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 12]))
        original: Article | None = None
        for n in range(reports):
            words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(150, 500))
            for fact in rng.sample(names, 3) + rng.sample(numbers, 2) + rng.sample(terms, 6):
                words.insert(rng.randrange(len(words)), fact)
            title = " ".join([*rng.sample(names, 2), *rng.sample(terms, 3), *rng.choices(vocabulary, k=4)])
            text = " ".join(words)
            if original is not None and rng.random() < 0.1:  # a copy: the original's text, a new headline
                text = original.text
            published = when + timedelta(hours=rng.expovariate(1 / 6) * (n > 0))
            number = len(made)
            made.append(
                Article.model_construct(  # valid by construction; validating 51,000 would take a minute
                    id=f"{number:032x}",
                    source=f"outlet-{rng.randrange(400)}",
                    source_name="Outlet",
                    title=title,
                    title_derived=False,
                    lead=text[:200],
                    sections=[Section(paragraphs=[text])],
                    text=text,
                    published_at=published,
                    published_date=published.date(),
                    date_source=DateSource.FEED,
                    fetched_at=published,
                    language="en",
                    content_hash=f"{number:064x}",
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
            )
            original = original or made[-1]
    made.sort(key=lambda a: (a.published_at, a.id))
    return made


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_side(side: str) -> dict[str, Any]:
    """Place the window batch by batch, then one more run's articles against the full window."""
    from pipeline.enrich.dedup import CopyIndex, signature
    from pipeline.enrich.events import EventIndex, place_articles

    articles = window_articles()
    window, new = articles[:WINDOW], articles[WINDOW:]
    copies, events = CopyIndex(), EventIndex()

    def place(batch: list[Any]) -> None:
        if side == "minhash":
            for article in batch:
                copies.place(article.id, article.content_hash, signature(article.title, article.text))
        else:
            place_articles(copies, events, batch)

    # CPU time of this process, pinned to one core: per-core rates even when the machine is shared.
    start = time.process_time()
    for i in range(0, len(window), BATCH):
        place(window[i : i + BATCH])
    seconds = time.process_time() - start
    start = time.process_time()
    place(new)
    full_window = time.process_time() - start
    stories = len({m.story_id for m in events.members()}) if side == "events" else None
    return {
        "articles": len(window),
        "seconds": seconds,
        "full_window_articles_per_s": len(new) / full_window,
        "stories": stories,
        "rss_mb": _peak_rss_mb(),
    }


def run_bucket(settings_json: str) -> dict[str, Any]:
    """The store stage's placement with the index in the bucket: fill the window, then time one run of NEW."""
    from pipeline.settings import Settings
    from pipeline.storage.keys import STORIES_PREFIX
    from pipeline.storage.store import ObjectStore
    from pipeline.stories import assign_stories

    settings = Settings.model_validate_json(settings_json)
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    articles = window_articles()
    for i in range(0, WINDOW, 10 * BATCH):
        assign_stories(store, articles[i : i + 10 * BATCH], DAYS)
    start = time.perf_counter()
    assign_stories(store, articles[WINDOW:], DAYS)
    seconds = time.perf_counter() - start
    size = sum(len(store.get_bytes(k)) for k in store.list_keys(STORIES_PREFIX))
    return {"run_s": seconds, "index_mb": round(size / 2**20, 1), "rss_mb": _peak_rss_mb()}


def measure(*args: str) -> dict[str, Any]:
    # taskset keeps each side on one core, so the figures are per core whatever the machine.
    command = ["taskset", "-c", "0", sys.executable, __file__, *args]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_stories(settings: Any, enrichment_per_s: float | None) -> dict[str, Any]:
    minhash, events = measure("minhash"), measure("events")
    bucket = measure("bucket", settings.model_dump_json())
    rate = events["articles"] / events["seconds"]
    result = {
        "window": WINDOW,
        "minhash_articles_per_s": round(minhash["articles"] / minhash["seconds"], 1),
        "minhash_rss_mb": minhash["rss_mb"],
        "events_articles_per_s": round(rate, 1),
        "events_full_window_articles_per_s": round(events["full_window_articles_per_s"], 1),
        "events_rss_mb": events["rss_mb"],
        "stories": events["stories"],
        "bucket_run_s": round(bucket["run_s"], 2),
        "bucket_new_articles": NEW,
        "bucket_index_mb": bucket["index_mb"],
        "bucket_rss_mb": bucket["rss_mb"],
        "goal": "at least 200 articles/s per core, at most 500 MB, at most 10% of the enrichment stage per article",
    }
    if enrichment_per_s:
        result["share_of_enrichment"] = round(enrichment_per_s / rate, 3)
    return result


if __name__ == "__main__":
    if sys.argv[1] == "bucket":
        print(json.dumps(run_bucket(sys.argv[2])))
    else:
        print(json.dumps(run_side(sys.argv[1])))
