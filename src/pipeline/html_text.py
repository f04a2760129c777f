"""HTML fragments from feeds -> sections of plain paragraphs, and a sanitised copy for display."""

from __future__ import annotations

import html
import re

import lxml.html
import nh3
from lxml import etree

from pipeline.models import Section

__all__ = ["absolute_links", "html_to_sections", "sanitise_html"]

_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "form", "button", "svg", "template", "head")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = (
    "p", "div", "li", "blockquote", "pre", "section", "article", "ul", "ol", "table", "tr",
    "figure", "figcaption", "dd", "dt", "header", "footer", "aside", "main", "hr",
)  # fmt: skip
_HEADING_MARK = "\ue000"  # a private-use character, removed from the input first
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
# Tags a digest reader may see; everything else (scripts, handlers, styles, remote frames) is removed.
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "figcaption", "figure", "h2", "h3", "h4",
    "i", "img", "li", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}}


# An href or src whose value does not start with a scheme or a fragment: possibly relative.
_MAYBE_RELATIVE = re.compile(r"""\b(?:href|src)\s*=\s*["']?\s*(?![a-z][a-z0-9+.-]*:|#)""", re.IGNORECASE)


def absolute_links(markup: str, base: str) -> str:
    """`markup` with relative links and image sources resolved against `base` (the entry's xml:base or the
    feed's URL). Markup with none, most of it, is returned as it is without being parsed."""
    if not _MAYBE_RELATIVE.search(markup):
        return markup
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup  # left to the sanitiser, which drops what it cannot read
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    return (root.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)


def sanitise_html(markup: str) -> str:
    """Sanitised HTML for display: safe tags only, http(s) links only, no script or event handler survives."""
    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_sections(markup: str) -> list[Section]:
    """Paragraphs from block elements, with headings starting new sections."""
    if not markup.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(markup.replace(_HEADING_MARK, ""), create_parent="div")
    except (etree.ParserError, ValueError):
        root = None
    sections = [] if root is None else _sections(root)
    if not sections:
        # Markup the parser cannot take (nested beyond libxml2's depth limit, say): keep its text regardless.
        text = " ".join(html.unescape(_TAG.sub(" ", markup)).split())
        sections = [Section(paragraphs=[text])] if text else []
    return sections


def _sections(root: lxml.html.HtmlElement) -> list[Section]:
    for element in list(root.iter(*_DROP)):
        element.drop_tree()
    for element in root.iter(etree.Comment):
        element.text = ""
    for element in root.iter("br"):
        element.tail = "\n" + (element.tail or "")
    for element in root.iter("td", "th"):  # cells of a row: words apart, on one line
        element.tail = " " + (element.tail or "")
    for element in root.iter(*_BLOCKS, *_HEADINGS):
        mark = _HEADING_MARK if element.tag in _HEADINGS else ""
        element.text = f"\n\n{mark}{element.text or ''}"
        element.tail = f"\n\n{element.tail or ''}"
    sections: list[Section] = []
    heading: str | None = None
    paragraphs: list[str] = []
    for block in _BREAK.split(root.text_content()):
        text = " ".join(block.split())
        if not text.strip(_HEADING_MARK + " "):
            continue
        if text.startswith(_HEADING_MARK):
            if paragraphs or heading:
                sections.append(Section(heading=heading, paragraphs=paragraphs or [heading or ""]))
            heading, paragraphs = text.lstrip(_HEADING_MARK + " "), []
        else:
            paragraphs.append(text.replace(_HEADING_MARK, ""))
    if paragraphs:
        sections.append(Section(heading=heading, paragraphs=paragraphs))
    elif heading:
        sections.append(Section(paragraphs=[heading]))
    return sections
