"""A person in headless Chromium: sign in to the Airflow UI and trigger news_ingest from its trigger form."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from tests.support.services import Services, dag_ready, run_state

pytestmark = pytest.mark.e2e


def sign_in(browser: Any, services: Services) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{services.base_url}/")
    page.wait_for_url("**/auth/login**", timeout=30_000)  # the UI asks who you are first
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(services.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{services.base_url}/", timeout=30_000)
    return page


def test_trigger_news_ingest_from_the_trigger_form(browser: Any, services: Services) -> None:
    services.wait_for("news_ingest to be parsed and unpaused", lambda: dag_ready(services, "news_ingest"))
    page = sign_in(browser, services)
    page.goto(f"{services.base_url}/dags/news_ingest")
    page.get_by_role("button", name="Trigger").first.click()
    form = page.get_by_role("dialog")
    form.get_by_placeholder("Enter each string on a new line").fill("seed-articles")
    form.get_by_text("force_refetch").click()
    form.get_by_role("checkbox").first.check(force=True)
    form.get_by_role("button", name="Trigger").click()
    page.wait_for_url("**/dags/news_ingest/runs/**", timeout=30_000)
    run_id = unquote(page.url.rsplit("/runs/", 1)[1].split("?")[0])

    run = services.api("GET", f"/dags/news_ingest/dagRuns/{run_id}").json()
    assert run["conf"] == {"sources": ["seed-articles"], "force_refetch": True, "dry_run": False, "since": None}
    services.wait_for("the run started from the form to succeed", lambda: run_state(services, "news_ingest", run_id))
    page.close()


def test_digests_page_in_the_ui(browser: Any, services: Services) -> None:
    page = sign_in(browser, services)
    page.goto(f"{services.base_url}/news-digests/")  # the plugin's own page, with the UI's session cookie
    services.wait_for("a digest to be listed", lambda: page.reload() or page.get_by_role("link").count() > 0)
    page.get_by_role("link").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("News digest for")
    page.close()
