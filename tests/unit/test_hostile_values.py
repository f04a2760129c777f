"""Hostile values, offline: dates, links, headers, encodings and addresses that once crashed a stage."""

from __future__ import annotations

import gzip
import resource
import zlib
from datetime import UTC, datetime

import brotli
import pytest
import zstandard

from pipeline.decoding import ACCEPT_ENCODING, DecodedTooLargeError, decode_body
from pipeline.errors import PermanentError
from pipeline.fetch import LONGEST_HINT, parse_max_age, parse_retry_after, redact, refusal
from pipeline.models import Source
from pipeline.normalise import canonical_url, normalise_item, same_site
from pipeline.parse import parse_payload
from pipeline.stages.handover import archive_metadata, archived_value

FETCHED_AT = datetime(2024, 1, 8, tzinfo=UTC)
MIB = 1024 * 1024
FEED = Source.model_validate({"id": "hostile", "kind": "feed", "url": "https://example.org/feed"})
JSON_FEED = Source.model_validate({"id": "hostile", "kind": "jsonfeed", "url": "https://example.org/feed.json"})


def _rss(*items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{"".join(items)}</channel></rss>'.encode()


@pytest.mark.parametrize(
    "date", ["Fri, 31 Dec 9999 23:00:00 BRT", "Fri, 31 Dec 9999 23:59:59 -2359", "Sat, 01 Jan 0001 00:00:00 +1400"]
)
def test_dates_at_the_edge_of_time_never_crash(date: str) -> None:
    good = "<item><title>Good</title><link>https://example.org/good</link></item>"
    bad = f"<item><title>Edge</title><link>https://example.org/edge</link><pubDate>{date}</pubDate></item>"
    payload = parse_payload(_rss(bad, good), FEED, "raw/x", FETCHED_AT, {"content-type": "application/rss+xml"})
    assert payload.count == 2
    for item in payload.items:
        normalise_item(item)  # a date beyond 9999 in UTC is no date: flagged, not a crash


def test_a_json_feed_date_that_overflows_is_that_items_rejection() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
        b'{"id": "1", "url": "https://example.org/1", "title": "Overflow",'
        b' "date_published": "9999-12-31T23:59:59-23:59"},'
        b'{"id": "2", "url": "https://example.org/2", "title": "Fine", "content_text": "Text."}]}'
    )
    payload = parse_payload(body, JSON_FEED, "raw/x", FETCHED_AT)
    assert [i.title for i in payload.items] == ["Fine"]
    assert payload.rejected and payload.rejected[0][0] == 0


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("http://example.org:99999/a", None),
        ("http://example.org:abc/a", None),
        ("http://[2001:db8::1]:8080/a?utm_source=x&b=1", "http://[2001:db8::1]:8080/a?b=1"),
        ("https://user:secret@example.org/a", "https://example.org/a"),
        ("mailto:someone@example.org", None),
    ],
)
def test_links_that_are_not_usable_urls_give_no_url_not_a_crash(link: str, canonical: str | None) -> None:
    assert canonical_url(link) == canonical
    item = f"<item><title>Odd link</title><link>{link.replace('&', '&amp;')}</link></item>"
    [raw] = parse_payload(_rss(item), FEED, "raw/x", FETCHED_AT).items
    assert normalise_item(raw).url == canonical


def test_cache_and_retry_hints_are_bounded() -> None:
    assert parse_max_age("max-age=9999999999999") == LONGEST_HINT
    assert parse_retry_after("9999999999999") == LONGEST_HINT
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=0) == LONGEST_HINT
    assert parse_max_age("max-age=abc") is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "168.63.129.16",
        "100.100.100.200",
        "0.1.2.3",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "2002:a9fe:a9fe::",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "64:ff9b::7f00:1",
    ],
)
def test_never_list_holds_even_when_private_networks_are_allowed(address: str) -> None:
    assert refusal(address, allow_private=True) is not None


@pytest.mark.parametrize("address", ["fec0::1", "10.0.0.1", "::ffff:192.168.1.1", "127.0.0.1", "::1"])
def test_private_addresses_need_the_allow(address: str) -> None:
    assert refusal(address, allow_private=False) is not None
    assert refusal(address, allow_private=True) is None


def test_credentials_are_redacted() -> None:
    assert redact("https://user:secret@feeds.example.org/rss?x=1") == "https://***@feeds.example.org/rss?x=1"
    assert redact("https://feeds.example.org/a@b") == "https://feeds.example.org/a@b"


def test_archive_metadata_is_ascii_and_within_s3s_limit() -> None:
    metadata = archive_metadata(url="https://example.org/ünïcode", item="https://example.org/ünïcode")
    assert metadata is not None and all(v.isascii() for v in metadata.values())
    assert archived_value(metadata, "item") == "https://example.org/ünïcode"
    assert archive_metadata(url="https://example.org/" + "a" * 3000, item="https://example.org/") is None


def test_canonical_urls_are_kept_only_on_the_items_own_site() -> None:
    assert same_site("https://www.bbc.co.uk/news/1", "https://feeds.bbc.co.uk/rss/1")
    assert not same_site("https://evil.example/1", "https://www.bbc.co.uk/news/1")
    assert not same_site("https://co.uk/1", "https://bbc.co.uk/1")
    assert same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b")


BOMB = 128 * MIB


def _encoded(coding: str) -> bytes:
    zeros = bytes(BOMB)
    if coding == "gzip":
        return gzip.compress(zeros, 9)
    if coding == "deflate":
        return zlib.compress(zeros, 9)
    if coding == "br":
        return brotli.compress(zeros)
    if coding == "zstd":
        return zstandard.ZstdCompressor(level=19).compress(zeros)
    if coding == "gzip, gzip":
        return gzip.compress(gzip.compress(zeros, 9), 9)
    assert coding == "br, gzip"
    return gzip.compress(brotli.compress(zeros), 9)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd", "gzip, gzip", "br, gzip"])
def test_decompression_bombs_are_refused_within_the_cap(coding: str) -> None:
    body = _encoded(coding)
    assert len(body) < MIB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cap = 10 * MIB
    with pytest.raises(DecodedTooLargeError):
        decode_body(body, coding, cap)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 32 + cap / MIB, f"decoding a {coding} bomb grew the peak by {grown_mib:.0f} MiB"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_each_advertised_coding_decodes(coding: str) -> None:
    assert coding in ACCEPT_ENCODING
    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    encoders = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    encoded = encoders[coding](text) if coding in encoders else zstandard.ZstdCompressor().compress(text)
    assert decode_body(encoded, coding, MIB) == text


def test_unknown_or_stacked_too_deep_codings_are_refused() -> None:
    with pytest.raises(PermanentError, match="unsupported content coding 'compress'"):
        decode_body(b"x", "compress", MIB)
    with pytest.raises(PermanentError, match="stacked"):
        decode_body(b"x", "gzip, gzip, gzip, gzip", MIB)


def test_failures_are_weighted_and_a_success_is_a_fresh_start() -> None:
    from pipeline.fetch import HttpStatusError, UnresolvableHostError
    from pipeline.models import SourceState
    from pipeline.settings import Settings
    from pipeline.sources.state import failed_state, failure_weight

    assert failure_weight(HttpStatusError("x: HTTP 503", 503)) == 0.5
    assert failure_weight(HttpStatusError("x: HTTP 404", 404)) == 1.0
    assert failure_weight(UnresolvableHostError("cannot resolve x")) == 1.0
    settings = Settings()
    outage = SourceState(source="s")
    gone = SourceState(source="s")
    for _ in range(4):
        outage = failed_state(outage, HttpStatusError("x: HTTP 503", 503), FETCHED_AT, settings)
        gone = failed_state(gone, HttpStatusError("x: HTTP 404", 404), FETCHED_AT, settings)
    assert (outage.failure_weight, gone.failure_weight) == (2.0, 4.0)
    assert outage.next_attempt_at is not None and gone.next_attempt_at is not None
    assert outage.next_attempt_at < gone.next_attempt_at  # a passing outage backs off less (jitter is ±20%)


def test_a_pathological_page_is_stopped_by_the_extraction_time_limit() -> None:
    from pipeline.fulltext import PageExtractor, PageText

    paragraphs = "".join(f"<p>paragraph {n} of a page built to take a minute to extract</p>" for n in range(200_000))
    pathological = f"<html><body><article>{paragraphs}</article></body></html>".encode()
    ordinary = (
        b"<html><body><article><p>"
        + b"An ordinary page with one long paragraph of text. " * 5
        + b"</p></article></body></html>"
    )
    with PageExtractor(time_limit=2.0) as pages:
        assert pages.extract(pathological, "https://example.org/slow") == "extraction took longer than 2s"
        text = pages.extract(ordinary, "https://example.org/ok")  # a fresh process takes over
    assert isinstance(text, PageText) and text.html and "ordinary page" in text.html
