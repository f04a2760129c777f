"""Render a `Digest` as HTML, Markdown, JSON and Atom. Deterministic: same digest, same bytes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.models import Digest
from pipeline.storage.keys import DIGESTS_PREFIX, digest_key

__all__ = ["render_atom", "render_html", "render_index", "render_json", "render_markdown", "safe_url"]

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
# Only at the start of a paragraph do these begin a heading, quote, list or rule.
_MD_BLOCK_START = re.compile(r"^([#>+=-])|^(\d+)([.)])")


def safe_url(url: str | None) -> str | None:
    """Keep only absolute http(s) links; anything else (javascript:, data:, relative) is dropped."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url.strip()


def md_escape(text: str) -> str:
    """Escape Markdown syntax and raw HTML so feed text renders as text."""
    escaped = _MD_INLINE.sub(r"\\\1", " ".join(text.split()))
    return _MD_BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped)


def clock(when: datetime) -> str:
    """Time of day for display; empty for date-only values (stored as midnight)."""
    return "" if (when.hour, when.minute, when.second) == (0, 0, 0) else when.strftime("%H:%M UTC")


def md_url(url: str | None) -> str | None:
    safe = safe_url(url)
    return safe.replace("(", "%28").replace(")", "%29").replace(" ", "%20") if safe else None


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.digest", "templates"),
        autoescape=select_autoescape(["html.j2", "xml.j2"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["md"] = md_escape
    env.filters["md_url"] = md_url
    env.filters["clock"] = clock
    return env


def render_html(digest: Digest) -> str:
    return _env().get_template("digest.html.j2").render(digest=digest)


def render_index(digests: list[Digest]) -> str:
    """A page listing digests, newest first, each linking to `YYYY-MM-DD` relative to the page."""
    ordered = sorted(digests, key=lambda d: d.date, reverse=True)
    return _env().get_template("index.html.j2").render(digests=ordered)


def render_markdown(digest: Digest) -> str:
    return _env().get_template("digest.md.j2").render(digest=digest)


def render_json(digest: Digest) -> str:
    return digest.model_dump_json(indent=2) + "\n"


def render_atom(digests: list[Digest], feed_id: str, base_url: str | None = None) -> str:
    """An Atom feed of digests, newest first; entry links are relative to the feed unless `base_url`."""
    ordered = sorted(digests, key=lambda d: d.date, reverse=True)

    def link(day: date) -> str:
        path = digest_key(day, "html").removeprefix(DIGESTS_PREFIX)  # the feed sits in digests/ too
        return f"{base_url.rstrip('/')}/{path}" if base_url else path

    updated = max((d.updated_at for d in ordered), default=datetime(1970, 1, 1, tzinfo=UTC))
    return (
        _env()
        .get_template("feed.xml.j2")
        .render(digests=ordered, feed_id=feed_id, link=link, updated=updated.isoformat())
    )
