"""Hostile feeds, all in one run: each is quarantined, capped or cleaned, none crashes a task, and the
whole run stays within a time and memory bound (measured in a fresh process, model loading included)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.paths import FEEDS
from tests.support.processes import last_json_line, run_python
from tests.support.rss import rss, rss_item
from tests.support.sources import register_feeds

MAX_SECONDS = 180  # the whole run, 13 hostile sources and one normal one, on CI's 2 cores
MAX_RSS_MB = 1500  # one worker process, the spaCy model included
GIB = 1024**3
MIB = 1024**2


def _rss(items: str) -> bytes:
    return rss("Hostile", [items])


def _item(
    title: str, body: str = "Body text of the item.", date: str = "Mon, 04 Mar 2024 10:00:00 GMT", n: int = 1
) -> str:
    return rss_item(title, f"https://hostile.example/{n}", body, date)


def _gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-compressed to about 1 MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MIB)
    return b"".join(packer.compress(chunk) for _ in range(GIB // MIB)) + packer.flush()


def _one_gib() -> Iterator[bytes]:
    chunk = b"<item>" + b"x" * (MIB - 6)
    for _ in range(GIB // MIB):
        yield chunk


_RUN = """
import json, resource, sys, time
from pipeline import stages
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
settings = Settings()
started = time.monotonic()
key, report = stages.ingest(ObjectStore.from_settings(settings), settings, "hostile")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds, "rss_mb": peak, "report": report.model_dump(mode="json")}))
"""


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _gzip_bomb()


def test_hostile_feeds_are_contained(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, bomb: bytes
) -> None:
    nested = "&lt;div&gt;" * 100_000 + "deep" + "&lt;/div&gt;" * 100_000
    many = "".join(rss_item(f"Item {i}", f"https://many.example/{i}") for i in range(100_000))
    routes = {
        "billion-laughs": Route(body=(FEEDS / "entity-bomb.xml").read_bytes()),
        "xxe": Route(body=(FEEDS / "xxe.xml").read_bytes()),
        "external-dtd": Route(
            body=f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{feed_server.url("/evil.dtd")}">'.encode()
            + _rss(_item("External DTD", n=7)).split(b"?>", 1)[1]
        ),
        "gzip-bomb": Route(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}),
        "one-gib": Route(body=_one_gib),
        "hundred-thousand-items": Route(body=_rss(many)),
        "nested-html": Route(body=_rss(_item("Nested markup", nested, n=2))),
        "bad-bytes": Route(
            body=_rss(_item("Broken \xff\xfe bytes and NUL \x00 here", n=3)).replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")
        ),
        "megabyte-title": Route(body=_rss(_item("T" * MIB, n=4))),
        "future-dates": Route(body=_rss(_item("From the future", date="Fri, 31 Dec 9999 23:59:59 GMT", n=5))),
        "json-wrong-types": Route(body=(FEEDS / "jsonfeed-wrong-types.json").read_bytes()),
        "not-a-feed": Route(body=b"\x00\x01\x02 binary garbage \xff" * 1000),
        "normal": Route(body=_rss(_item("An ordinary story about the harbour strike", n=6))),
    }
    for name, route in routes.items():
        feed_server.routes[f"/{name}" + (".json" if name.startswith("json") else ".xml")] = route
    register_feeds(settings, feed_server, {n: f"/{n}" + (".json" if n.startswith("json") else ".xml") for n in routes})

    outcome = last_json_line(run_python(settings, _RUN))
    assert outcome["seconds"] < MAX_SECONDS and outcome["rss_mb"] < MAX_RSS_MB, outcome
    results = {r["source"]: r for r in outcome["report"]["sources"]}
    for r in results.values():
        assert r["read"] == r["stored"] + r["duplicates"] + r["quarantined"], r
    articles: dict[str, list[dict[str, Any]]] = {}
    for key in store.list_keys("articles/"):
        article = json.loads(store.get_bytes(key))
        articles.setdefault(article["source"], []).append(article)

    for name in ("gzip-bomb", "one-gib"):  # cut at the size cap while streaming, never held in memory
        assert "exceeds 10485760" in results[name]["error"]
    [laughs] = articles["billion-laughs"]
    assert "lollol" not in laughs["title"] + laughs["text"]  # entities are never expanded
    [xxe] = articles["xxe"]
    assert "root:" not in xxe["title"] + xxe["text"]
    assert not any(seen.path.startswith("/latest") for seen in feed_server.requests)  # nothing fetched for it
    [dtd] = articles["external-dtd"]
    assert dtd["title"] == "External DTD" and feed_server.hits("/evil.dtd") == 0  # the DTD is never fetched
    many_result = results["hundred-thousand-items"]
    assert (many_result["read"], many_result["stored"], many_result["quarantined"]) == (1001, 1000, 1)
    [capped] = [
        json.loads(store.get_bytes(k)) for k in store.list_keys("quarantine/") if "/hundred-thousand-items/" in k
    ]
    assert capped["reason"].startswith("99000 items after the first 1000 were not read")
    assert results["nested-html"]["stored"] == 1, results["nested-html"]
    [nested] = articles["nested-html"]
    assert "deep" in nested["text"]
    [bad] = articles["bad-bytes"]
    assert "\x00" not in bad["title"] and "\ufffd" not in bad["title"]
    [mega] = articles["megabyte-title"]
    assert len(mega["title"]) <= 1000
    [future] = articles["future-dates"]
    assert future["date_flagged"] and future["date_source"] == "fetched"
    assert (results["json-wrong-types"]["stored"], results["json-wrong-types"]["quarantined"]) == (1, 3)
    assert (results["not-a-feed"]["stored"], results["not-a-feed"]["quarantined"]) == (0, 1)
    assert results["normal"]["stored"] == 1
