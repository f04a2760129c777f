"""Benchmark feed server: N feeds spread over many loopback addresses, each answered after a fixed delay.

Run as a separate process so serving never competes with the client for the GIL:
    python bench/feed_server.py FEEDS ITEMS DELAY_MS HOSTS PORT
Addresses are 127.0.1.1 ... 127.0.1.HOSTS (all loopback); feed i lives on host i % HOSTS at /feed/i.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web


def feed_body(feed: int, items: int) -> bytes:
    """A realistic RSS 2.0 document: titles, links, dates, HTML descriptions of a few paragraphs."""
    start = datetime(2024, 1, 7, tzinfo=UTC)
    entries = []
    for i in range(items):
        when = format_datetime(start - timedelta(minutes=17 * i + feed))
        paragraph = (
            f"Officials in region {feed} said on item {i} that the measures would continue through the week, "
            "citing new figures on transport, energy and public health published by the ministry. "
        )
        entries.append(
            f"<item><title>Report {feed}-{i}: officials extend the measures</title>"
            f"<link>https://news{feed % 97}.example.org/{feed}/{i}?utm_source=rss</link>"
            f"<guid>urn:bench:{feed}:{i}</guid><pubDate>{when}</pubDate><category>Region {feed % 11}</category>"
            f"<description><![CDATA[<p>{paragraph * 2}</p><p>{paragraph}</p>]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://news.example.org/</link><language>en</language>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def main() -> None:
    feeds, items, delay_ms, hosts, port = (int(a) for a in sys.argv[1:6])
    bodies = [feed_body(n, items) for n in range(feeds)]
    etags = [f'"{hashlib.sha256(b).hexdigest()[:16]}"' for b in bodies]

    async def handle(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        await asyncio.sleep(delay_ms / 1000)
        if request.headers.get("If-None-Match") == etags[n]:
            return web.Response(status=304, headers={"ETag": etags[n]})
        return web.Response(body=bodies[n], content_type="application/rss+xml", headers={"ETag": etags[n]})

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for h in range(1, hosts + 1):
            await web.TCPSite(runner, f"127.0.1.{h}", port, backlog=1024).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
