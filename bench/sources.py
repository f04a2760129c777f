"""Adding sources and reading media: an OPML import against loading its result, and a feed with Media RSS groups
parsed by the pipeline against feedparser alone.

Both sides of each pair run in this process, in turn, best of `ROUNDS`; `python bench/sources.py` prints JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 5
FEEDS = 2000  # a large reader's export: 40 folders of 50 feeds
ITEMS = 200  # items of the podcast feed, each with an enclosure and a media:group of three
# An import reads the OPML, puts every URL in canonical form and loads the result: three passes, each about as
# costly as loading the registry.
OPML_GOAL = 3.0
MEDIA_GOAL = 1.5  # the pipeline's parse at most this many times feedparser's own


def _best(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def opml_bytes() -> bytes:
    folders = []
    for f in range(FEEDS // 50):
        outlines = "".join(
            f'<outline type="rss" text="Feed {f}-{n}" title="Feed {f}-{n}" '
            f'xmlUrl="https://host{f}.example/feeds/{n}.xml" htmlUrl="https://host{f}.example/"/>\n'
            for n in range(50)
        )
        folders.append(f'<outline text="Folder {f}">\n{outlines}</outline>\n')
    head = '<?xml version="1.0"?>\n<opml version="2.0"><head><title>x</title></head><body>\n'
    return f"{head}{''.join(folders)}</body></opml>".encode()


def media_feed() -> bytes:
    items = "".join(
        f"<item><title>Episode {n}</title><link>https://pod.example/{n}</link>"
        f"<pubDate>Sun, 07 Jan 2024 08:00:00 GMT</pubDate><description>Notes of episode {n}.</description>"
        f'<enclosure url="https://cdn.pod.example/{n}.mp3" length="4821350{n % 10}" type="audio/mpeg"/>'
        "<media:group>"
        f'<media:content url="https://cdn.pod.example/{n}-480.mp4" type="video/mp4" fileSize="9100000"/>'
        f'<media:content url="https://cdn.pod.example/{n}-1080.mp4" type="video/mp4" isDefault="true"/>'
        f'<media:content url="https://cdn.pod.example/{n}.webm" type="video/webm"/>'
        "</media:group></item>"
        for n in range(ITEMS)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>Pod</title>{items}</channel></rss>"
    ).encode()


def run() -> dict[str, Any]:
    import feedparser
    import listparser

    from pipeline.models import Source
    from pipeline.parse import parse_feed
    from pipeline.sources import load_registry
    from pipeline.sources.additions import add_sources
    from pipeline.sources.opml import plan_import, read_opml
    from pipeline.sources.registry import Registry

    data = opml_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "sources.toml"

        def import_all() -> None:
            target.write_text("# sources\n")
            plan = plan_import(read_opml(data), Registry(target, ()))
            add_sources(target, plan.added)

        opml = {"listparser_s": _best(lambda: listparser.parse(data)), "import_s": _best(import_all)}
        opml["load_s"] = _best(lambda: load_registry(target))  # the floor: the result is validated as this
        opml["sources"] = len(load_registry(target).sources)
    feed = media_feed()
    source = Source.model_validate({"id": "pod", "kind": "feed", "url": "https://pod.example/feed"})
    fetched = datetime(2024, 1, 7, tzinfo=UTC)
    enclosures = sum(len(i.enclosures) for i in parse_feed(feed, source, "raw/pod/1.xml", fetched).items)
    media = {
        "feedparser_s": _best(lambda: feedparser.parse(feed, resolve_relative_uris=False, sanitize_html=False)),
        "pipeline_s": _best(lambda: parse_feed(feed, source, "raw/pod/1.xml", fetched)),
        "enclosures": enclosures,
    }
    return {"opml": opml, "media": media}


def bench_sources() -> dict[str, Any]:
    result = run()
    opml, media = result["opml"], result["media"]
    return {
        "feeds": opml["sources"],
        "listparser_ms": round(opml["listparser_s"] * 1000, 1),
        "import_ms": round(opml["import_s"] * 1000, 1),
        "load_ms": round(opml["load_s"] * 1000, 1),
        "import_ratio": round(opml["import_s"] / opml["load_s"], 2),
        "opml_goal": f"at most {OPML_GOAL}x loading the resulting registry",
        "items": ITEMS,
        "enclosures": media["enclosures"],
        "feedparser_ms": round(media["feedparser_s"] * 1000, 1),
        "pipeline_ms": round(media["pipeline_s"] * 1000, 1),
        "media_ratio": round(media["pipeline_s"] / media["feedparser_s"], 2),
        "media_goal": f"at most {MEDIA_GOAL}x feedparser's parse",
    }


def markdown(r: dict[str, Any]) -> list[str]:
    return [
        "## Sources: OPML import and media enclosures",
        "",
        f"An OPML export of {r['feeds']} feeds in 40 folders, imported into an empty sources file: parsed with "
        "listparser after a well-formedness pass with lxml that records each outline's line, checked (http(s), "
        "duplicates by canonical URL), given ids, appended as TOML and loaded back as a registry before the "
        f"rename. A podcast feed of {r['items']} items, each with an enclosure and a `media:group` of three "
        "versions: the pipeline's `parse_feed` (feedparser, a second lxml pass over the groups, enclosures "
        f"validated; {r['enclosures']} kept) against `feedparser.parse` alone. Best of {ROUNDS} in one process.",
        "",
        "| | time | against baseline | goal |",
        "| --- | --- | --- | --- |",
        f"| listparser `parse` alone | {r['listparser_ms']} ms | | |",
        f"| `load_registry` of the result (baseline: the validation every import ends with) | {r['load_ms']} ms "
        "| 1.00x | |",
        f"| `news sources import` work | {r['import_ms']} ms | {r['import_ratio']}x | {r['opml_goal']} |",
        f"| `feedparser.parse` (baseline) | {r['feedparser_ms']} ms | 1.00x | |",
        f"| pipeline `parse_feed` with enclosures | {r['pipeline_ms']} ms | {r['media_ratio']}x | {r['media_goal']} |",
    ]


if __name__ == "__main__":
    print(json.dumps(bench_sources()))
