"""Fuzzing through the real stages: generated dates, links, headers and bytes go parse -> normalise -> enrich ->
store on the real object store beside a good source; nothing escapes a stage and every item is accounted for."""

from __future__ import annotations

import resource
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.models import Fetched, RunReport
from pipeline.settings import Settings
from pipeline.stages.enrich import enrich_sources
from pipeline.stages.handover import archive_content_type
from pipeline.stages.normalise import normalise_sources
from pipeline.stages.report import write_run_report
from pipeline.stages.store import store_sources
from pipeline.storage.keys import raw_key
from pipeline.storage.store import ObjectStore
from tests.support.rss import rss, rss_item
from tests.support.s3 import new_bucket
from tests.support.sources import accounted

FETCHED_AT = datetime(2024, 3, 5, 12, tzinfo=UTC)
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
GOOD = rss("Good", [rss_item("The harbour strike ends after a week", "https://good.example/1", "Workers return.")])
MAX_RSS_GROWTH_MB = 600

dates = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["Fri, 31 Dec 9999 23:00:00 BRT", "9999-12-31T23:59:59-23:59", "Mon, 01 Jan 0001 00:00:00 +1400"]),
)
links = st.one_of(
    st.text(max_size=80),
    st.builds(
        "{}://{}:{}/{}".format,
        st.sampled_from(["http", "https", "mailto", "data", "javascript"]),
        st.sampled_from(["example.org", "[2001:db8::1]", "user:pw@example.org", "ëxample.org", ""]),
        st.sampled_from(["80", "99999", "abc", "-1", ""]),
        st.text(max_size=30),
    ),
)
content_types = st.one_of(
    st.text(max_size=60), st.sampled_from(["application/rss+xml; charset=utf-16", "text/html", "text/xml; charset=x"])
)


@pytest.fixture(scope="module")
def fuzz_settings(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("fuzz")
    configured = new_bucket(s3_server, folder)
    configured.sources_file.write_text(
        '[[sources]]\nid = "fuzzed"\nkind = "feed"\nurl = "https://fuzzed.example/feed"\n\n'
        '[[sources]]\nid = "good"\nkind = "feed"\nurl = "https://good.example/feed"\n'
    )
    return configured.model_copy(update={"inbox_prefix": ""})


def _run(settings_: Settings, store: ObjectStore, payload: bytes, content_type: str, run: str) -> RunReport:
    """What the stages after fetch do with the two payloads, as if fetched in this run."""
    fetched = []
    for source, body, kind in (("fuzzed", payload, content_type), ("good", GOOD, "application/rss+xml")):
        key = raw_key(source, FETCHED_AT, f"{abs(hash((run, source))):064x}"[:64], "xml")
        store.put_bytes(key, body, archive_content_type(kind, "application/octet-stream"))  # as the fetch stage
        fetched.append(Fetched(source=source, run_id=run, fetched_at=FETCHED_AT, raw_keys=[key]))
    enriched = enrich_sources(store, settings_, normalise_sources(store, settings_, fetched))
    stored = store_sources(store, settings_, enriched)
    return write_run_report(store, "fuzz", run, ["fuzzed", "good"], stored)[1]


@EXAMPLES
@given(
    title=st.text(max_size=200),
    date=dates,
    link=links,
    body=st.text(max_size=500),
    content_type=content_types,
    noise=st.binary(max_size=200),
)
def test_generated_hostile_items_never_escape_a_stage(
    fuzz_settings: Settings, title: str, date: str, link: str, body: str, content_type: str, noise: bytes
) -> None:
    store = ObjectStore.from_settings(fuzz_settings)
    item = (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><pubDate>{escape(date)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )
    payload = rss("Fuzzed", [item]) + noise
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = _run(fuzz_settings, store, payload, content_type, f"fuzz-{abs(hash((title, date, link, body)))}")
    results = accounted(report)  # read = stored + duplicates + quarantined, per source and for the run
    assert report.failed_sources == [], [r.error for r in report.sources]
    assert results["good"].stored + results["good"].duplicates == 1, "the good source of the shard is stored"
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < MAX_RSS_GROWTH_MB


def test_a_payload_that_is_no_feed_is_one_quarantined_item(fuzz_settings: Settings) -> None:
    store = ObjectStore.from_settings(fuzz_settings)
    report = _run(fuzz_settings, store, b"\x00 not a feed", "text/plain", "plain-garbage")
    results = accounted(report)
    assert (results["fuzzed"].read, results["fuzzed"].quarantined) == (1, 1)
