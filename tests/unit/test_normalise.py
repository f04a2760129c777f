from __future__ import annotations

import pytest

from pipeline.normalise import article_id, canonical_url, clean_text, derive_title


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.ORG:443/News/a?utm_source=x&id=7#top", "https://example.org/News/a?id=7"),
        ("http://example.org:8080?fbclid=1&gclid=2&mc_cid=3", "http://example.org:8080/"),
        ("https://example.org/a?b=1&utm_medium=rss&c=", "https://example.org/a?b=1&c="),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_id_ignores_tracking_parameters_and_case_of_host() -> None:
    a = article_id("one", "https://Example.org/x?utm_campaign=1", "A", "2024-01-01")
    b = article_id("two", "https://example.org/x", "Other title", "2024-01-02")
    assert a == b


def test_id_without_url_uses_source_title_and_date() -> None:
    base = article_id("src", None, "Japan backs Ukraine!", "2024-01-07")
    assert base == article_id("src", None, "  japan   BACKS ukraine ", "2024-01-07")
    assert base != article_id("src", None, "Japan backs Ukraine", "2024-01-08")
    assert base != article_id("other", None, "Japan backs Ukraine", "2024-01-07")


def test_clean_text_decodes_entities_and_normalises() -> None:
    assert clean_text("Cafe\u0301 &amp;\u00a0co  reports .") == "Café & co reports."


@pytest.mark.parametrize(
    ("lead", "title"),
    [
        ("Short lead. Second sentence.", "Short lead"),
        ("“We will help,” she said. Then she left.", "“We will help,” she said"),
        ("word " * 40, ("word " * 24).strip() + "…"),
    ],
)
def test_derive_title(lead: str, title: str) -> None:
    assert derive_title(lead) == title
