"""Faults: the object store dies, a feed dies mid-body, DNS fails, the store stage is SIGKILLed.

After each, a re-run completes, every item is accounted for and every article is stored exactly once.
"""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator

import pytest

from pipeline import stages
from pipeline.errors import PipelineError
from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.feedserver import FeedServer, Route
from tests.support.processes import killed_while_storing, run_python
from tests.support.rss import rss, rss_item
from tests.support.sources import accounted, register_feeds, stored_once


def _rss(name: str, items: int) -> bytes:
    return rss(
        name,
        (
            rss_item(
                f"{name} story {i} about the harbour strike",
                f"https://{name}.example/{i}",
                f"Dock workers in port {i} walked out on Monday over pay, the union said.",
                f"Mon, 04 Mar 2024 0{i % 9}:00:00 GMT",
            )
            for i in range(items)
        ),
    )


def test_object_store_killed_mid_run(own_s3: tuple[Settings, EmbeddedS3], feed_server: FeedServer) -> None:
    settings, server = own_s3
    for name in ("alpha", "beta", "gamma"):
        feed_server.routes[f"/{name}.xml"] = Route(body=_rss(name, 5))
    register_feeds(settings, feed_server, {n: f"/{n}.xml" for n in ("alpha", "beta", "gamma")})
    store = ObjectStore.from_settings(settings)

    fetched = stages.fetch_sources(store, settings, ["alpha", "beta", "gamma"], "run-1")
    assert all(r.error is None for r in fetched)
    server.down()  # SIGTERM to weed, mid-run: payloads archived, nothing normalised or stored yet
    with pytest.raises(PipelineError, match=r"S3 endpoint http://127\.0\.0\.1:\d+ unreachable \(get s3://"):
        stages.normalise_sources(store, settings, fetched)  # in Airflow: the task fails, and is retried

    server.up()  # the same data directory: what was archived before the crash is still there
    _, report = stages.ingest(store, settings, "run-2")
    results = accounted(report)
    assert [results[n].stored for n in ("alpha", "beta", "gamma")] == [5, 5, 5]
    assert len(stored_once(store)) == 15
    _, again = stages.ingest(store, settings, "run-3")
    assert again.stored == 0 and len(stored_once(store)) == 15


def test_feed_server_dies_mid_body(settings: Settings, store: ObjectStore, feed_server: FeedServer) -> None:
    whole = _rss("alpha", 5)

    def half() -> Iterator[bytes]:
        yield whole[: len(whole) // 2]  # then the connection closes, short of Content-Length

    feed_server.routes["/alpha.xml"] = Route(body=half, headers={"Content-Length": str(len(whole))})
    feed_server.routes["/beta.xml"] = Route(body=_rss("beta", 3))
    register_feeds(settings, feed_server, {"alpha": "/alpha.xml", "beta": "/beta.xml"})

    _, report = stages.ingest(store, settings, "run-1")
    results = accounted(report)
    assert results["alpha"].error and results["alpha"].read == 0
    assert results["beta"].stored == 3 and report.failed_sources == ["alpha"]

    feed_server.routes["/alpha.xml"] = Route(body=whole)
    _, healed = stages.ingest(store, settings, "run-2", force=True)
    assert accounted(healed)["alpha"].stored == 5
    assert len(stored_once(store)) == 8


def test_dns_failure_fails_the_source_not_the_run(
    settings: Settings, store: ObjectStore, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_server.routes["/beta.xml"] = Route(body=_rss("beta", 2))
    register_feeds(settings, feed_server, {"beta": "/beta.xml"})
    with settings.sources_file.open("a") as f:
        f.write('\n[[sources]]\nid = "gone"\nkind = "feed"\nurl = "https://feeds.gone.example/rss"\n')
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        if host == "feeds.gone.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    _, report = stages.ingest(store, settings, "run-1")
    results = accounted(report)
    assert "resolve" in (results["gone"].error or "").lower() or "name" in (results["gone"].error or "").lower()
    assert results["beta"].stored == 2 and report.failed_sources == ["gone"]


# In the middle of the store stage: three articles written, seven to go.
_KILLED_WHILE_STORING = killed_while_storing(
    3,
    "from pipeline.settings import Settings\n"
    "from pipeline.storage.store import ObjectStore\n"
    "settings = Settings()\n"
    'stages.ingest(ObjectStore.from_settings(settings), settings, "run-killed")',
)


def test_store_stage_killed_with_sigkill_converges_on_rerun(
    settings: Settings, store: ObjectStore, feed_server: FeedServer
) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=_rss("alpha", 10))
    register_feeds(settings, feed_server, {"alpha": "/alpha.xml"})
    killed = run_python(settings, _KILLED_WHILE_STORING)
    assert killed.returncode == -signal.SIGKILL
    assert len(stored_once(store)) == 3  # the fetch state was not committed: the next run fetches again

    _, report = stages.ingest(store, settings, "run-2")
    results = accounted(report)
    assert (results["alpha"].stored, results["alpha"].duplicates) == (7, 3)
    assert len(stored_once(store)) == 10
    revisions = {json.loads(store.get_bytes(k))["revision"] for k in store.list_keys("articles/")}
    assert revisions == {1}
    _, again = stages.ingest(store, settings, "run-3")
    assert again.stored == 0 and again.not_modified + again.duplicates >= 1
