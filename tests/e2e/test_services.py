"""End to end through Airflow's own services: the REST API, the scheduler, assets and the inbox trigger."""

from __future__ import annotations

import json
import re
import time

import psutil
import pytest

from pipeline.settings import Settings
from tests.support.paths import DOCUMENTS
from tests.support.services import Services, dag_ready, run_state, runs

pytestmark = pytest.mark.e2e


def test_anonymous_api_calls_are_refused(services: Services) -> None:
    import httpx

    assert httpx.get(f"{services.base_url}/api/v2/dags").status_code == 401


def test_trigger_ingest_through_the_api_then_the_digest_follows(services: Services) -> None:
    services.wait_for("news_ingest to be parsed and unpaused", lambda: dag_ready(services, "news_ingest"))
    services.wait_for("news_digest to be parsed and unpaused", lambda: dag_ready(services, "news_digest"))

    refused = services.api(
        "POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": {"sources": ["Not A Slug"]}}
    )
    assert refused.status_code == 400 and "sources" in refused.text

    triggered = services.api(
        "POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": {"force_refetch": True}}
    )
    assert triggered.status_code == 200, triggered.text
    run_id = triggered.json()["dag_run_id"]
    services.wait_for("news_ingest to succeed", lambda: run_state(services, "news_ingest", run_id))

    [article_key] = list(services.store.list_keys("articles/date=2024-01-07/"))
    assert json.loads(services.store.get_bytes(article_key))["language"] == "en"

    def digest_done() -> bool:
        asset_runs = [r for r in runs(services, "news_digest") if r["run_type"] == "asset_triggered"]
        return any(r["state"] == "success" for r in asset_runs) and bool(
            services.store.etag("digests/2024-01-07/digest.html")
        )

    services.wait_for("the asset-triggered news_digest run", digest_done)
    html = services.store.get_bytes("digests/2024-01-07/digest.html").decode()
    assert "Foreign Minister Yoko Kamikawa promised" in html


def test_a_document_dropped_into_the_inbox_is_ingested(services: Services) -> None:
    services.wait_for("news_ingest to be parsed and unpaused", lambda: dag_ready(services, "news_ingest"))
    services.store.put_bytes("inbox/dropped.txt", (DOCUMENTS / "lead-on-second-line.txt").read_bytes())
    services.wait_for(
        "the inbox document's article", lambda: list(services.store.list_keys("articles/date=2024-03-01/"))
    )
    services.wait_for(
        "the document to move to inbox/processed/, under the name the trigger claimed it with",
        lambda: (
            [re.sub(r"/\d{8}T\d{6}Z-[0-9a-f]{8}-", "/{claimed}-", k) for k in services.store.list_keys("inbox/")]
            == ["inbox/processed/{claimed}-dropped.txt"]
        ),
    )
    inbox_runs = [r for r in runs(services, "news_ingest") if r["run_type"] == "asset_triggered"]
    assert inbox_runs, "the inbox event, not the hourly schedule, started the run"
    services.wait_for(
        "the digest of the inbox document's day", lambda: services.store.etag("digests/2024-03-01/digest.html")
    )


def test_services_listen_on_loopback_only(services: Services) -> None:
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid and _airflow_process(c.pid)
    }
    assert listening == {"127.0.0.1"}, listening


def _airflow_process(pid: int) -> bool:
    try:
        return "airflow" in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def test_backfill_rebuilds_digests_idempotently(services: Services) -> None:
    """What `airflow backfill create --dag-id news_day --from-date … --to-date …` does, through the API: each day
    of the range closed again, and news_digest rebuilding each in a partitioned run of its own."""
    services.wait_for("news_day to be parsed and unpaused", lambda: dag_ready(services, "news_day"))
    services.wait_for("news_digest to be parsed and unpaused", lambda: dag_ready(services, "news_digest"))
    if not list(services.store.list_keys("articles/date=2024-01-07/")):
        triggered = services.api("POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": {}})
        run_id = triggered.json()["dag_run_id"]
        services.wait_for("news_ingest to succeed", lambda: run_state(services, "news_ingest", run_id))
    before = services.store.get_bytes_or_none("digests/2024-01-07/digest.html")
    earlier = {r["dag_run_id"] for r in runs(services, "news_digest")}

    request = {
        "dag_id": "news_day",
        "from_date": "2024-01-06T00:00:00Z",
        "to_date": "2024-01-07T12:00:00Z",
        "reprocess_behavior": "completed",
        "max_active_runs": 2,
    }
    # On SQLite a write that waits out the lock while the scheduler writes fails: the API answers 503 "Database is
    # locked", or 500 "Database error" when it is the audit log's insert that timed out (its transaction is
    # rolled back, so asking again is safe).
    for _ in range(30):
        created = services.api("POST", "/backfills", json=request)
        locked = created.status_code == 503 or (created.status_code == 500 and "Database error" in created.text)
        if not locked:
            break
        time.sleep(2)
    assert created.status_code == 200, created.text

    def rebuilt() -> set[str]:
        new = [r for r in runs(services, "news_digest") if r["dag_run_id"] not in earlier]
        days = {r["partition_key"] for r in new if r["state"] == "success"}
        return days if days == {"2024-01-06", "2024-01-07"} else set()

    services.wait_for("a news_digest run of each backfilled day", rebuilt)
    assert b"No articles for 2024-01-06." in services.store.get_bytes("digests/2024-01-06/digest.html")
    after = services.store.get_bytes("digests/2024-01-07/digest.html")
    assert b"Foreign Minister Yoko Kamikawa promised" in after
    if before is not None:
        assert after == before, "rebuilding a day changes nothing"


def test_an_ingest_of_two_days_makes_one_digest_run_per_day(services: Services) -> None:
    services.wait_for("news_digest to be parsed and unpaused", lambda: dag_ready(services, "news_digest"))
    # Two unrelated stories on days no other test's articles fall on.
    stories = {
        "2023-11-29": "The island ferry leaves an hour earlier from Monday, its operator said on the quay.",
        "2023-11-30": "A rare orchid flowered in the botanical garden's glasshouse for the first time in decades.",
    }
    days = sorted(stories)
    for day, text in stories.items():
        (services.home / "articles" / f"story-{day}.txt").write_text(f" date {day} {text}\n")
    earlier = {r["dag_run_id"] for r in runs(services, "news_digest")}
    triggered = services.api(
        "POST", "/dags/news_ingest/dagRuns", json={"logical_date": None, "conf": {"sources": ["seed-articles"]}}
    )
    assert triggered.status_code == 200, triggered.text
    run_id = triggered.json()["dag_run_id"]
    services.wait_for("news_ingest to succeed", lambda: run_state(services, "news_ingest", run_id))

    def one_run_per_day() -> list[dict[str, object]]:
        new = [r for r in runs(services, "news_digest") if r["dag_run_id"] not in earlier]
        done = [r for r in new if r["state"] == "success" and r["partition_key"] in days]
        return done if len(done) == len(days) else []

    done = services.wait_for("one news_digest run per day stored", one_run_per_day)
    assert sorted(str(r["partition_key"]) for r in done) == days  # one each, none twice
    assert {r["run_type"] for r in done} == {"asset_triggered"}
    for day, text in stories.items():
        assert text[:40].encode() in services.store.get_bytes(f"digests/{day}/digest.html")


def test_digest_page_in_the_airflow_ui_needs_auth(services: Services) -> None:
    import httpx

    services.wait_for("news_ingest to be parsed and unpaused", lambda: dag_ready(services, "news_ingest"))
    if not services.store.etag("digests/2024-01-07/digest.html"):
        triggered = services.api(
            "POST", "/dags/news_digest/dagRuns", json={"logical_date": None, "conf": {"date": "2024-01-07"}}
        )
        run_id = triggered.json()["dag_run_id"]
        services.wait_for("news_digest to succeed", lambda: run_state(services, "news_digest", run_id))

    anonymous = [httpx.get(f"{services.base_url}/news-digests/{path}") for path in ("", "2024-01-07")]
    assert [r.status_code for r in anonymous] == [401, 401]
    auth = {"Authorization": f"Bearer {services.token()}"}
    index = httpx.get(f"{services.base_url}/news-digests/", headers=auth)
    assert index.status_code == 200 and 'href="2024-01-07"' in index.text
    page = httpx.get(f"{services.base_url}/news-digests/2024-01-07", headers=auth)
    assert page.status_code == 200
    assert page.text == services.store.get_bytes("digests/2024-01-07/digest.html").decode()
    missing = httpx.get(f"{services.base_url}/news-digests/not-a-date", headers=auth)
    assert missing.status_code == 404
    # The policy as response headers, on every answer: no script, nothing remote, sandboxed, never sniffed.
    for response in (*anonymous, index, page, missing):
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy.split("; ") and "script-src" not in policy
        assert "img-src data:" in policy and "frame-ancestors 'self'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_secret_in_any_service_or_task_log(services: Services, s3_server: Settings) -> None:
    """Runs the other tests left logs behind: neither the admin password nor the S3 keys are in them."""
    from pipeline.storage.credentials import read_credentials

    creds = read_credentials(s3_server.local_dir)
    assert creds is not None
    s3_secrets = [creds.secret_access_key.get_secret_value(), creds.access_key_id]
    logs = [*services.home.glob("*.log"), *(p for p in (services.home / "logs").rglob("*") if p.is_file())]
    assert len(logs) > 4  # the four services, and task logs
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in [services.password, *s3_secrets]:
            assert secret not in text, f"a secret is in {path}"
