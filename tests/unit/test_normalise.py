from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.models import RawItem
from pipeline.normalise import article_id, canonical_url, clean_text, derive_title, normalise_item


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
    ("text", "cleaned"),
    [
        ("Invoice \u202egpj.exe", "Invoice gpj.exe"),  # a right-to-left override: would display "exe.jpg"
        ("Vote \u202a\u202b\u202c\u202d now", "Vote now"),  # embeddings and the other override
        ("Mayor \u2066\u2067\u2068Smith\u2069 resigns", "Mayor Smith resigns"),  # isolates
        ("Breaking\U000e0001\U000e0041\U000e007f news", "Breaking news"),  # tag characters: invisible ASCII
        ("&#x202E;Reversed &#x2066;isolate", "Reversed isolate"),  # also when they arrive as character references
        ("Markets rise\uffff\ufffe", "Markets rise"),  # not characters at all; XML refuses them
        ("Lone \ud800surrogate", "Lone surrogate"),  # what a JSON Feed's "\ud800" decodes to
        ("Null\x00 bell\x07 escape\x1b[31m red", "Null bell escape[31m red"),  # C0 controls
        ("Unit\x1fseparator and\x0bvertical tab", "Unit separator and vertical tab"),  # whitespace ones: a space
        ("mojibake â€® inside", "mojibake inside"),  # repaired mojibake that turns out to be an override
        ("Right-to-left: \u05e9\u05dc\u05d5\u05dd \u200fmark", "Right-to-left: \u05e9\u05dc\u05d5\u05dd \u200fmark"),
    ],
)
def test_clean_text_drops_bidi_controls_tags_and_what_xml_forbids(text: str, cleaned: str) -> None:
    assert clean_text(text) == cleaned
    assert clean_text(cleaned) == cleaned


def _raw(**fields: object) -> RawItem:
    defaults: dict[str, object] = {"source_id": "src", "raw_key": "raw/src/1", "index": 0, "sections": []}
    return RawItem.model_validate(defaults | {"fetched_at": datetime(2024, 1, 8, tzinfo=UTC)} | fields)


def test_headline_and_source_name_lose_bidi_and_tag_characters() -> None:
    article = normalise_item(
        _raw(title="Ships \u202edesserp\u202c sail\U000e0041", source_name="\u2067Daily\u2069  News\uffff")
    )
    assert (article.title, article.source_name) == ("Ships desserp sail", "Daily News")
    assert normalise_item(_raw(title="T", source_name="\u202e\u2066")).source_name == "src"


@pytest.mark.parametrize(
    ("image", "kept"),
    [
        ("https://cdn.example.org/a.jpg?w=640&sig=Zz", "https://cdn.example.org/a.jpg?w=640&sig=Zz"),
        ("  http://example.org/b.png ", "http://example.org/b.png"),
        ("javascript:alert(1)", None),
        ("data:image/svg+xml;base64,PHN2Zz4=", None),
        ("/relative/c.jpg", None),
        ("//example.org/scheme-relative.jpg", None),
        ("ftp://example.org/d.jpg", None),
        ("http://[::1/broken", None),
        ('https://example.org/x.jpg" onerror="alert(1)', None),
        ("", None),
    ],
)
def test_image_url_is_http_or_nothing(image: str, kept: str | None) -> None:
    assert normalise_item(_raw(title="T", image_url=image)).image_url == kept


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
