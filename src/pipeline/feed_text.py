"""Payload bytes -> the text feedparser parses, made safe: the encoding decided by feedparser's own rules, then
DOCTYPE and ENTITY declarations removed (no entity bombs, no external DTDs), in one linear pass. Pure."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from feedparser.encodings import lazy_chardet_encoding, parse_content_type

from pipeline.errors import PermanentError

__all__ = ["declared_encoding", "feedparser_text", "neutralise_declarations", "utf8_headers"]


# What feedparser's `convert_to_utf8` sniffs from the first bytes, in its order: a BOM (dropped), else `<?xm` in an
# encoding that is not ASCII-compatible (kept).
_SNIFFED = (
    (codecs.BOM_UTF32_BE, "utf-32be", 4),
    (codecs.BOM_UTF32_LE, "utf-32le", 4),
    (codecs.BOM_UTF16_BE, "utf-16be", 2),
    (codecs.BOM_UTF16_LE, "utf-16le", 2),
    (codecs.BOM_UTF8, "utf-8", 3),
    (b"\x4c\x6f\xa7\x94", "cp037", 0),
    (b"\x00\x3c\x00\x3f", "utf-16be", 0),
    (b"\x3c\x00\x3f\x00", "utf-16le", 0),
    (b"\x00\x00\x00\x3c", "utf-32be", 0),
    (b"\x3c\x00\x00\x00", "utf-32le", 0),
)
# Declared names that only say "wide": the sniffed byte order wins over them.
_WIDE = frozenset({
    "u16", "utf-16", "utf16", "utf_16", "u32", "utf-32", "utf32", "utf_32",
    "iso-10646-ucs-2", "iso-10646-ucs-4", "csucs4", "csunicode", "ucs-2", "ucs-4",
})  # fmt: skip
_APPLICATION_XML = ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity")
_QUOTES = (b"'", b'"')
# The declaration feedparser writes in front of the text it parses.
_UTF8_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"


def _sniff(data: bytes) -> tuple[str, bytes]:
    """The encoding the first bytes show (a BOM, or `<?xm` in UTF-16/32 or EBCDIC) and the data past any BOM."""
    for prefix, encoding, bom in _SNIFFED:
        if data.startswith(prefix):
            return encoding, data[bom:]
    return "", data


def declared_encoding(data: bytes, sniffed: str) -> str:
    """The XML declaration's encoding as feedparser's regex reads it, found here in linear time.

    Its `^<\\?.*encoding=['"](.*?)['"].*\\?>` takes the last `encoding=` on the first line whose value can still
    close on a quote before the line's last `?>`; run as a regex it takes cubic time on one long line.
    """
    if sniffed:
        try:
            data = data.decode(sniffed).encode("utf-8")
        except (ValueError, LookupError):
            return ""
    end = data.find(b"\n")
    line = data if end == -1 else data[:end]
    close = line.rfind(b"?>")
    last_quote = max(line.rfind(b"'", 0, close), line.rfind(b'"', 0, close)) if close > 0 else -1
    if not line.startswith(b"<?") or last_quote < 12:  # 12: `<?encoding="` is the shortest start of a value
        return ""
    at = line.rfind(b"encoding=", 2, last_quote - 1)
    while at != -1 and line[at + 9 : at + 10] not in _QUOTES:
        at = line.rfind(b"encoding=", 2, at + 8)
    if at == -1:
        return ""
    ends = [i for i in (line.find(quote, at + 10, close) for quote in _QUOTES) if i != -1]
    return line[at + 10 : min(ends)].decode("utf-8", "replace").lower()


def _chardet(data: bytes) -> str:
    """chardet's guess, through the same import feedparser makes (cchardet first); empty without one."""
    found = lazy_chardet_encoding(data) if lazy_chardet_encoding is not None else ""
    return found if isinstance(found, str) else ""


def feedparser_text(data: bytes, headers: Mapping[str, str]) -> str:
    """The payload as the text feedparser would parse, by the rules of its `convert_to_utf8`.

    RFC 3023 picks between the charset header, the XML declaration and the default of the media type; then the
    declaration, the sniffed encoding, chardet, utf-8, windows-1252 and iso-8859-2 follow, the first that decodes
    winning. Mirrored, not called: its declaration regex is cubic. Where feedparser would crash (an `undefined`
    codec, text with lone surrogates) the next candidate is tried instead.
    """
    sniffed, data = _sniff(data)
    declared = declared_encoding(data, sniffed)
    if sniffed and declared in _WIDE:
        declared = sniffed
    mime, charset = parse_content_type(headers.get("content-type") or "")
    if mime in _APPLICATION_XML or (mime.startswith("application/") and mime.endswith("+xml")):
        chosen = charset or declared or "utf-8"
    elif mime.startswith("text/"):
        chosen = charset or "us-ascii"
    elif headers and "content-type" not in headers:
        chosen = declared or "iso-8859-1"
    else:
        chosen = declared or "utf-8"
    chosen = "gb18030" if chosen.lower() == "gb2312" else chosen
    declared = "gb18030" if declared == "gb2312" else declared
    tried = set()
    for candidate in (chosen, declared, sniffed, _chardet, "utf-8", "windows-1252", "iso-8859-2"):
        encoding = candidate(data) if callable(candidate) else candidate
        if not encoding or encoding in tried:
            continue
        tried.add(encoding)
        try:
            text = data.decode(encoding)
            text.encode("utf-8")
        except (ValueError, LookupError):  # UnicodeError is a ValueError
            continue
        return text
    raise PermanentError("payload encoding unknown: no candidate encoding decodes it")


# `<!` and the keyword. XML wants upper case and no space, but catching the variants costs nothing.
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENTITY = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DECLARATION_MARK = re.compile(r"""["'\[\]>]|<!--|<\?""")
_SKIPPED_TO = {'"': '"', "'": "'", "<!--": "-->", "<?": "?>"}


def _declaration_end(text: str, pos: int, doctype: bool) -> int:
    """Where the declaration whose keyword ends at `pos` ends (just past its `>`), or -1 if the text ends first.

    Literals, comments and processing instructions are skipped whole and a DOCTYPE's `[` ... `]` nest, so a `>`
    inside them ends nothing, as in an XML parser.
    """
    depth = 0
    while (mark := _DECLARATION_MARK.search(text, pos)) is not None:
        pos = mark.end()
        if (closer := _SKIPPED_TO.get(mark.group())) is not None:
            close = text.find(closer, pos)
            if close == -1:
                return -1
            pos = close + len(closer)
        elif mark.group() == "[" and doctype:
            depth += 1
        elif mark.group() == "]" and depth:
            depth -= 1
        elif mark.group() == ">" and not depth:
            return pos
    return -1


def _strip_declarations(text: str) -> str:
    """`text` without its DOCTYPE and ENTITY declarations, in one left-to-right pass.

    A declaration the text ends inside is kept, with all after it, for the caller to refuse; stopping there is
    also what keeps the pass linear.
    """
    kept = []
    pos = 0
    while (match := _DECLARATION.search(text, pos)) is not None:
        end = _declaration_end(text, match.end(), doctype=match.group(1).upper() == "DOCTYPE")
        if end == -1:
            break
        kept.append(text[pos : match.start()])
        pos = end
    kept.append(text[pos:])
    return "".join(kept)


# feedparser's `<\w` on bytes: the first element, which ends the head it searches for a DOCTYPE.
_FIRST_ELEMENT = re.compile(r"<[A-Za-z0-9_]")
_BLANKS = re.compile(r"[ \t\n\r\f\v]+")


def _collapse_head_blanks(text: str) -> str:
    """Each run of blanks holding a newline before the first element, as one newline.

    feedparser looks for `^\\s*<!DOCTYPE` at each line of that head, which is quadratic in blank lines, and a
    prolog of stripped declarations is just such lines.
    """
    first = _FIRST_ELEMENT.search(text)
    if first is None:  # feedparser then searches no head at all
        return text
    head = _BLANKS.sub(lambda run: "\n" if "\n" in run.group() else run.group(), text[: first.start()])
    return head + text[first.start() :]


def neutralise_declarations(data: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """Drop DOCTYPE and ENTITY declarations: no entity expansion bombs, no external DTDs (XXE).

    They are looked for in the text feedparser will parse, decoded as it decides from `headers` and the bytes,
    so markup in UTF-16/32 or EBCDIC is seen too. The result is UTF-8 whose first line declares utf-8; parse it
    with the charset header said as utf-8 (`parse_feed` does). A payload that still declares anything once
    stripped (an unterminated declaration, one assembled from the text around another) is refused.
    """
    text = feedparser_text(data, headers or {})
    if text.startswith("<?xml") and (close := text.find(">")) != -1:
        text = text[close + 1 :]
    body = _collapse_head_blanks(_strip_declarations(text))
    if (left := _DECLARATION.search(body)) is not None:
        what = "entities (<!ENTITY)" if _ENTITY.search(body, left.start()) else "a DTD (<!DOCTYPE)"
        raise PermanentError(f"payload declares {what}: refused")
    # On a line of its own: feedparser reads the encoding from the whole first line.
    return (_UTF8_DECLARATION + ("" if body.startswith("\n") else "\n") + body).encode("utf-8")


def utf8_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers with any charset said as utf-8, as the neutralised payload is."""
    out = dict(headers)
    mime, charset = parse_content_type(out.get("content-type") or "")
    # Without a charset, text/* means us-ascii: UTF-8 beyond ASCII fails it and the utf-8 declaration is next.
    if charset and charset.lower() != "utf-8":
        out["content-type"] = f"{mime}; charset=utf-8"
    return out
