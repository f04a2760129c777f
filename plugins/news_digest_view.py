"""The digests inside the Airflow UI: a page per day, behind Airflow's own authentication."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

# Plugin apps are mounted without auth: this dependency is what makes anonymous requests get a 401.
digest_app = FastAPI(title="News digests", dependencies=[Depends(requires_access_view(AccessView.PLUGINS))])


@digest_app.middleware("http")
async def page_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Every answer, errors too, with the pages' Content-Security-Policy (plus sandbox) and nosniff as headers:
    a page is inert in the browser even if what is stored for it was not."""
    from pipeline.digest.render import PAGE_HEADERS

    response = await call_next(request)
    response.headers.update(PAGE_HEADERS)
    return response


def _store() -> ObjectStore:
    from pipeline.storage.store import ObjectStore  # boto3: loaded by the api-server only when a page is asked for

    return ObjectStore.from_settings(get_settings())


@digest_app.get("/", response_class=HTMLResponse)
def list_digests() -> str:
    """Every published digest, newest first."""
    from pipeline.digest.publish import list_digest_dates, load_digest
    from pipeline.digest.render import render_index

    store = _store()
    digests = [d for d in (load_digest(store, day) for day in list_digest_dates(store)) if d]
    return render_index(digests)


@digest_app.get("/{day}", response_class=HTMLResponse)
def show_digest(day: str) -> str:
    """The HTML digest of one day, as published."""
    from pipeline.storage.keys import digest_key

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise HTTPException(status_code=404, detail="expected a date, YYYY-MM-DD") from None
    body = _store().get_bytes_or_none(digest_key(when, "html"))
    if body is None:
        raise HTTPException(status_code=404, detail=f"no digest for {when}")
    return body.decode()


class NewsDigestPlugin(AirflowPlugin):
    name = "news_digests"
    fastapi_apps: ClassVar[list[Any]] = [{"app": digest_app, "url_prefix": "/news-digests", "name": "News digests"}]
    external_views: ClassVar[list[Any]] = [
        {"name": "News digests", "href": "/news-digests/", "url_route": "news-digests", "destination": "nav"}
    ]
