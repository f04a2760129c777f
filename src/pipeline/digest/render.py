"""Render a `Digest` as HTML, Markdown, JSON and Atom. Deterministic: same digest, same bytes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.models import Digest
from pipeline.storage.keys import DIGESTS_PREFIX, digest_key
from pipeline.text import http_url, xml_safe

__all__ = [
    "PAGE_HEADERS",
    "PAGE_POLICY",
    "render_atom",
    "render_html",
    "render_index",
    "render_json",
    "render_markdown",
    "safe_url",
]

# The pages forbid scripts and every remote resource, even if a feed smuggled one into the markup: styles are
# inline, images data: only, no <base>, no form. They carry this in a meta tag (it holds wherever a page is
# opened); whoever serves them sends PAGE_HEADERS too, which add what a meta tag cannot: sandbox (no script,
# no plugin, an origin of its own), who may frame the page, and no guessing of its type.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
PAGE_HEADERS = {
    "Content-Security-Policy": f"{PAGE_POLICY}; frame-ancestors 'self'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
# Only at the start of a paragraph do these begin a heading, quote, list or rule.
_MD_BLOCK_START = re.compile(r"^([#>+=-])|^(\d+)([.)])")

NAMED_SOURCES = 5  # "Also reported by" names this many, then says how many more

safe_url = http_url  # links in a digest: absolute http(s) only, never javascript:, data: or relative


def _xml_safe_values(value: Any) -> Any:
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, list):
        return [_xml_safe_values(v) for v in value]
    if isinstance(value, dict):
        return {_xml_safe_values(k): _xml_safe_values(v) for k, v in value.items()}
    return value


def _printable(digest: Digest) -> Digest:
    """`digest` without a character XML 1.0 forbids in any of its text, whatever its articles held (normalising
    removes them now; articles stored before may still have some): every rendering stays well-formed."""
    return Digest.model_validate(_xml_safe_values(digest.model_dump()))


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


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    return Locale.parse("en").territories.get(code) or code


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    return Locale.parse("en").languages.get(code) or code


def outlets(kind: str, count: int) -> str:
    """ "3 newspapers", "1 agency": how many sources of an outlet kind."""
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return f"{count} {kind if count == 1 else plural}"


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
    env.filters["country"] = country_name
    env.filters["language_name"] = language_name
    env.filters["outlets"] = outlets
    env.globals["named_sources"] = NAMED_SOURCES
    env.globals["page_policy"] = Markup(PAGE_POLICY)  # noqa: S704 (a constant: quoted as it is, not &#39;)
    return env


def render_html(digest: Digest) -> str:
    return _env().get_template("digest.html.j2").render(digest=_printable(digest))


def render_index(digests: list[Digest]) -> str:
    """A page listing digests, newest first, each linking to `YYYY-MM-DD` relative to the page."""
    ordered = sorted((_printable(d) for d in digests), key=lambda d: d.date, reverse=True)
    return _env().get_template("index.html.j2").render(digests=ordered)


def render_markdown(digest: Digest) -> str:
    return _env().get_template("digest.md.j2").render(digest=_printable(digest))


def render_json(digest: Digest) -> str:
    return _printable(digest).model_dump_json(indent=2) + "\n"


def render_atom(digests: list[Digest], feed_id: str, base_url: str | None = None) -> str:
    """An Atom feed of digests, newest first; entry links are relative to the feed unless `base_url`."""
    ordered = sorted((_printable(d) for d in digests), key=lambda d: d.date, reverse=True)

    def link(day: date) -> str:
        path = digest_key(day, "html").removeprefix(DIGESTS_PREFIX)  # the feed sits in digests/ too
        return f"{base_url.rstrip('/')}/{path}" if base_url else path

    updated = max((d.updated_at for d in ordered), default=datetime(1970, 1, 1, tzinfo=UTC))
    return (
        _env()
        .get_template("feed.xml.j2")
        .render(digests=ordered, feed_id=feed_id, link=link, updated=updated.isoformat())
    )
