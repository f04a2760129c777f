"""Hostile feed content rendered into a digest and opened in headless Chromium: nothing runs, nothing loads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipeline.digest import build_digest, render_html
from tests.support.articles import make_article
from tests.support.feedserver import FeedServer, Route

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.pwned = 'script'</script>",
    "<img src=x onerror=\"window.pwned = 'onerror'\">",
    "<svg onload=\"window.pwned = 'svg'\"></svg>",
    "<a href=\"javascript:window.pwned='link'\">click</a>",
    '<div style="background:url(http://evil.example/x.png); width: expression(alert(1))">css</div>',
    '<iframe src="http://evil.example/"></iframe>',
    '"><script>window.pwned = "attribute"</script>',
]


def test_hostile_digest_runs_no_script_and_loads_nothing(browser: Any, feed_server: FeedServer, tmp_path: Path) -> None:
    articles = [
        make_article(n, title=payload, url=url, source=f"src{n}")
        for n, (payload, url) in enumerate(
            zip(
                PAYLOADS,
                ["javascript:window.pwned='href'", "data:text/html,<script>1</script>", *[None] * 5],
                strict=False,
            ),
            start=1,
        )
    ]
    html = render_html(build_digest(date(2024, 1, 7), articles))
    feed_server.routes["/digest.html"] = Route(body=html.encode(), headers={"Content-Type": "text/html; charset=utf-8"})

    page = browser.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(feed_server.url("/digest.html"))
    for link in page.get_by_role("link").all():
        link.click(timeout=2000, no_wait_after=True)
    page.wait_for_timeout(500)

    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert requests == [feed_server.url("/digest.html")], "no remote resource, no navigation to a script URL"
    assert page.get_by_text("<script>").count() == 0, "markup is removed from headlines, not shown"
    assert page.get_by_text("click").count() >= 1, "the text inside the markup stays"
    # The page still reads as a digest: sections and stories drawn, not a blank or broken page.
    assert page.locator("h2.section").count() >= 1 and page.locator("article").count() == len(articles)
    shot = page.screenshot(full_page=True, path=str(tmp_path / "hostile-digest.png"))
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000, "a rendered page, not an empty one"
    page.close()
