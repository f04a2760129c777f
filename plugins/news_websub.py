"""The WebSub callback on Airflow's api-server: the one route reachable without Airflow's sign-in.

It answers a hub's intent verification (GET) and takes signed pushes (POST), nothing else; what it does is in
`pipeline.sources.websub`. The subscriptions listing beside it is behind Airflow's authentication.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import APIRouter, Depends, FastAPI, Request, Response

from pipeline.models import SLUG
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

log = logging.getLogger(__name__)

# No docs or schema routes: the app serves the callback and the signed-in listing only.
websub_app = FastAPI(title="News WebSub", docs_url=None, redoc_url=None, openapi_url=None)
signed_in = APIRouter(dependencies=[Depends(requires_access_view(AccessView.PLUGINS))])


def _store() -> ObjectStore:
    from pipeline.storage.store import ObjectStore  # boto3: loaded by the api-server only when a hub calls

    return ObjectStore.from_settings(get_settings())


@websub_app.get("/callback/{source}")
def verify_intent(source: str, request: Request) -> Response:
    """Echo the challenge for a subscription the pipeline asked for; 404 for anything else."""
    from pipeline.sources.websub import answer_intent

    if not SLUG.fullmatch(source):
        return Response(status_code=404)
    answer = answer_intent(_store(), source, dict(request.query_params))
    if answer is None:
        log.warning("WebSub: refused a %r verification for %s", request.query_params.get("hub.mode"), source)
        return Response(status_code=404)
    return Response(answer, media_type="text/plain")


@websub_app.post("/callback/{source}")
async def receive_push(source: str, request: Request) -> Response:
    """Store a push whose X-Hub-Signature verifies; refuse one too large (413) or unsigned or wrongly signed (403)."""
    import asyncio

    from pipeline.sources.websub import store_push

    settings = get_settings()
    if not SLUG.fullmatch(source):
        return Response(status_code=404)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.websub_max_body:
        return Response(status_code=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.websub_max_body:
            return Response(status_code=413)
    signature = request.headers.get("x-hub-signature")
    key = await asyncio.to_thread(
        store_push,
        _store(),
        settings.websub_push_prefix,
        source,
        bytes(body),
        request.headers.get("content-type"),
        signature,
    )
    if key is None:
        reason = "no signature" if not signature else "a wrong signature or no active subscription"
        log.warning("WebSub: refused a push for %s: %s", source, reason)
        return Response(status_code=403)
    log.info("WebSub: push for %s stored as %s", source, key)
    return Response(status_code=202)


@signed_in.get("/subscriptions")
def list_subscriptions() -> list[dict[str, Any]]:
    """Every subscription and its state, without secrets."""
    from pipeline.sources.websub import load_subscriptions

    return [s.model_dump(mode="json", exclude={"secret"}) for s in load_subscriptions(_store()).values()]


websub_app.include_router(signed_in)


class NewsWebSubPlugin(AirflowPlugin):
    name = "news_websub"
    fastapi_apps: ClassVar[list[Any]] = [{"app": websub_app, "url_prefix": "/news-websub", "name": "News WebSub"}]
