from __future__ import annotations

import json

from pipeline.models import SourceKind
from pipeline.sources.history import older_page


def test_an_archive_names_its_older_document_before_a_next_page() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="next" href="https://a.example/?page=2"/>'
        b'<link rel="prev-archive" href="https://a.example/2026/10"/>'
        b'<entry><link rel="prev-archive" href="https://a.example/entry-level"/></entry></feed>'
    )
    assert older_page(atom, SourceKind.FEED) == "https://a.example/2026/10"


def test_only_the_channels_own_links_count() -> None:
    rss = (
        b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>'
        b'<item><atom:link rel="next" href="https://a.example/item-level"/></item></channel></rss>'
    )
    assert older_page(rss, SourceKind.FEED) is None
    bad = b'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="next" href="javascript:alert(1)"/></feed>'
    assert older_page(bad, SourceKind.FEED) is None


def test_a_json_feed_pages_with_next_url() -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [], "next_url": "https://j.example/2"}
    assert older_page(json.dumps(feed).encode(), SourceKind.JSONFEED) == "https://j.example/2"
    assert older_page(b"[1, 2]", SourceKind.JSONFEED) is None
    assert older_page(b"not json", SourceKind.JSONFEED) is None
