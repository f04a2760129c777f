"""RSS 2.0 built in code: items, and a channel around them."""

from __future__ import annotations

from collections.abc import Iterable


def rss_item(title: str, link: str, description: str | None = None, published: str | None = None) -> str:
    """One <item>: title and link, then the description and pubDate when given."""
    parts = [f"<title>{title}</title><link>{link}</link>"]
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if published is not None:
        parts.append(f"<pubDate>{published}</pubDate>")
    return f"<item>{''.join(parts)}</item>"


def rss(title: str, items: Iterable[str], declaration: bool = True) -> bytes:
    """A channel of `items`, UTF-8, after an XML declaration unless told not to."""
    head = '<?xml version="1.0"?>' if declaration else ""
    return f'{head}<rss version="2.0"><channel><title>{title}</title>{"".join(items)}</channel></rss>'.encode()
