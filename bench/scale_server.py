"""Feed server for `fetch-scale`: feeds on hundreds of loopback addresses, some slow, some dead, and a host of
article pages for a full-text feed.

Run as a separate process so serving never competes with the client for the GIL:
    python bench/scale_server.py PLAN.json
The plan (written by bench/scale.py) names the port and the addresses of each kind of host, one aiohttp site
per address (all in 127.0.0.0/8, which Linux routes to loopback with no set-up):
- "ok": /feed/{n} answered at once, with an ETag (304 when If-None-Match matches);
- "slow": the same, answered after "slow_s" seconds;
- "dead": the connection is accepted and the request read, but no response ever comes;
- "fulltext": /full.xml with "fulltext_items" items, each linking to its page /story/{n} on the same host,
  and /robots.txt.
GET /stats on any address: per address, the requests it received, the first and last arrival (monotonic
seconds) and the most it answered at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from feed_server import feed_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fulltext_feed(base: str, items: int) -> tuple[bytes, dict[str, bytes]]:
    """An RSS feed of `items` teasers, and the article page (path -> HTML) each of them links to."""
    entries, pages = [], {}
    for n in range(items):
        link = f"{base}/story/{n}"
        entries.append(
            f"<item><title>Story {n}</title><link>{link}</link><description>Teaser {n}.</description></item>"
        )
        pages[f"/story/{n}"] = (
            f"<html><head><title>Story {n}</title><link rel='canonical' href='{link}'></head><body><article>"
            f"<h1>Story {n}</h1><p>The whole story number {n} starts with its first long paragraph, which tells "
            f"what happened and where.</p><p>Its second paragraph adds the background of story {n}.</p>"
            "</article></body></html>"
        ).encode()
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Full</title>{"".join(entries)}</channel></rss>'
    return feed.encode(), pages


class Stats:
    """Requests seen per local address: count, first and last arrival, most in flight."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}
        self.in_flight: dict[str, int] = {}

    def middleware(self) -> Any:
        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path == "/stats":
                return await handler(request)
            address = request.transport.get_extra_info("sockname")[0] if request.transport else "?"
            now = time.monotonic()
            entry = self.seen.setdefault(address, {"requests": 0, "first": now, "last": now, "most_in_flight": 0})
            entry["requests"] += 1
            entry["last"] = now
            self.in_flight[address] = self.in_flight.get(address, 0) + 1
            entry["most_in_flight"] = max(entry["most_in_flight"], self.in_flight[address])
            try:
                return await handler(request)
            finally:
                self.in_flight[address] -= 1

        return count

    async def handle(self, request: web.Request) -> web.Response:
        return web.json_response(self.seen)


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    port, items = plan["port"], plan["items"]
    bodies = [feed_body(n, items) for n in range(plan["feeds"])]
    etags = [f'"{hashlib.sha256(b).hexdigest()[:16]}"' for b in bodies]
    stats = Stats()

    def feeds(delay: float) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            n = int(request.match_info["n"])
            if delay:
                await asyncio.sleep(delay)
            if request.headers.get("If-None-Match") == etags[n]:
                return web.Response(status=304, headers={"ETag": etags[n]})
            return web.Response(body=bodies[n], content_type="application/rss+xml", headers={"ETag": etags[n]})

        return handle

    async def silent(request: web.Request) -> web.Response:
        await asyncio.Event().wait()  # never answers: the client's read timeout ends it
        return web.Response()

    fulltext: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    for address in plan["fulltext"]:
        feed, pages = fulltext_feed(f"http://{address}:{port}", plan["fulltext_items"])
        fulltext |= pages | {"/full.xml": feed}

    async def page(request: web.Request) -> web.Response:
        body = fulltext.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        kind = "application/rss+xml" if request.path.endswith(".xml") else "text/html"
        return web.Response(body=body, content_type="text/plain" if request.path == "/robots.txt" else kind)

    routes: dict[str, list[web.RouteDef]] = {
        "ok": [web.get("/feed/{n}", feeds(0))],
        "slow": [web.get("/feed/{n}", feeds(plan["slow_s"]))],
        "dead": [web.get("/feed/{n}", silent)],
        "fulltext": [web.get("/{path:.*}", page)],
    }

    async def serve() -> None:
        for kind, defs in routes.items():
            app = web.Application(middlewares=[stats.middleware()])
            app.router.add_get("/stats", stats.handle)
            app.add_routes(defs)
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await runner.setup()
            for address in plan[kind]:
                await web.TCPSite(runner, address, port, backlog=1024).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
