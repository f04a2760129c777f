"""The demo's day of news (seeds/demo/, served by `make demo`): its sources file loads and every feed reads cleanly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.models import SourceKind
from pipeline.parse import parse_payload
from pipeline.sources.registry import load_registry
from tests.support.paths import ROOT

DEMO = ROOT / "seeds" / "demo"
FETCHED_AT = datetime(2024, 1, 7, 23, 0, tzinfo=UTC)


def test_the_demo_sources_load_and_every_feed_is_a_file_of_the_folder() -> None:
    registry = load_registry(DEMO / "sources.toml")
    documents = [s for s in registry.sources if s.kind is SourceKind.DOCUMENTS]
    assert [Path(registry.base_dir / (s.path or "")).resolve() for s in documents] == [ROOT / "seeds" / "articles"]
    feeds = [s for s in registry.sources if s.url]
    assert len(feeds) >= 5 and all(s.allow_private_network for s in feeds)
    assert all(s.country and s.outlet for s in feeds)  # the digest's coverage names them
    assert all((DEMO / urlsplit(str(s.url)).path.lstrip("/")).is_file() for s in feeds)


def test_every_demo_item_is_read_with_title_text_and_a_date_of_the_demo_day() -> None:
    registry = load_registry(DEMO / "sources.toml")
    kinds, languages, read = set(), set(), 0
    for source in (s for s in registry.sources if s.url):
        body = (DEMO / urlsplit(str(source.url)).path.lstrip("/")).read_bytes()
        payload = parse_payload(body, source, f"raw/{source.id}", FETCHED_AT)
        assert not payload.rejected, (source.id, payload.rejected)
        for item in payload.items:
            assert item.title and (item.html or item.sections) and item.published_at, (source.id, item.index)
            assert item.published_at.date() in {date(2024, 1, 7), date(2024, 1, 8)}, (source.id, item.title)
        kinds.add(_format(body))
        languages.add(source.language)
        read += len(payload.items)
    assert kinds == {"rss", "atom", "jsonfeed"}
    assert len(languages) >= 2 and read >= 15


def _format(body: bytes) -> str:
    if body.lstrip().startswith(b"{"):
        return "jsonfeed"
    return "atom" if b"<feed" in body[:500] else "rss"
