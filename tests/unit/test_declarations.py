"""DOCTYPE and ENTITY declarations are neutralised in the text feedparser parses, whatever its encoding."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import feedparser
import pytest
from feedparser.encodings import RE_XML_PI_ENCODING, convert_to_utf8
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import PermanentError
from pipeline.feed_text import declared_encoding, feedparser_text, neutralise_declarations, utf8_headers
from pipeline.models import Source
from pipeline.parse import ParsedPayload, parse_payload

SOURCE = Source.model_validate({"id": "case", "kind": "feed", "url": "https://example.org/feed"})
FETCHED = datetime(2024, 1, 8, tzinfo=UTC)
BOUND = 4096  # no item text may come out longer than this
NO_HEADERS: dict[str, str] = {}
XML = {"content-type": "application/xml"}


def feed(prolog: str = "", title: str = "Zürich résumé", encoding: str = "utf-8", body: str = "Grüße.") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n{prolog}'
        f'<rss version="2.0"><channel><title>Wide</title><item><title>{title}</title>'
        f"<link>https://example.org/1</link><description>{body}</description></item></channel></rss>"
    )


def laughs(levels: int) -> str:
    """A billion-laughs DTD, after a comment holding `<x`: feedparser's own DOCTYPE filter then misses it."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, levels + 1)]
    return "<!-- <x -->\n<!DOCTYPE rss [\n" + "\n".join(entities) + "\n]>\n"


def bomb(levels: int, encoding: str, body: str = "Grüße.") -> str:
    return feed(laughs(levels), title=f"Bomb &lol{levels};", encoding=encoding, body=body)


def parse(data: bytes, headers: dict[str, str] | None = None) -> ParsedPayload:
    return parse_payload(data, SOURCE, "raw/case", FETCHED, headers)


def assert_bounded(data: bytes, headers: dict[str, str]) -> ParsedPayload | None:
    """Parse the payload: refused, or items none of whose text is longer than BOUND."""
    try:
        result = parse(data, headers)
    except PermanentError:
        return None
    for item in result.items:
        assert len(item.title or "") <= BOUND
        assert len(item.html or "") <= BOUND
    return result


def assert_nothing_declared(data: bytes, headers: dict[str, str]) -> None:
    """What feedparser will decode from the neutralised bytes is those bytes, and declares nothing."""
    try:
        out = neutralise_declarations(data, headers)
    except PermanentError:
        return
    assert convert_to_utf8(utf8_headers(headers), out, {}) == out
    text = out.decode("utf-8").upper()
    assert "<!ENTITY" not in text
    assert "<!DOCTYPE" not in text


WIDE_CASES = [
    pytest.param("utf-16-le", "UTF-16", b"<\x00?\x00", id="utf-16le-no-bom"),
    pytest.param("utf-16-be", "UTF-16", b"\x00<\x00?", id="utf-16be-no-bom"),
    pytest.param("utf-32-le", "UTF-32", b"<\x00\x00\x00", id="utf-32le-no-bom"),
    pytest.param("utf-32-be", "UTF-32", b"\x00\x00\x00<", id="utf-32be-no-bom"),
    pytest.param("cp037", "cp037", b"\x4c\x6f\xa7\x94", id="ebcdic-cp037"),
    pytest.param("cp500", "cp500", b"\x4c\x6f\xa7\x94", id="ebcdic-cp500"),
]


@pytest.mark.parametrize(("codec", "declared", "start"), WIDE_CASES)
def test_the_attack_is_real_for_feedparser_alone(codec: str, declared: str, start: bytes) -> None:
    data = bomb(3, declared).encode(codec)
    assert data.startswith(start)  # no BOM: only the byte pattern tells the encoding
    parsed = feedparser.parse(data, response_headers=XML, resolve_relative_uris=False, sanitize_html=False)
    assert parsed.entries[0].title == "Bomb " + "lol" * 1000


@pytest.mark.parametrize(("codec", "declared", "start"), WIDE_CASES)
@pytest.mark.parametrize("headers", [NO_HEADERS, XML], ids=["no-headers", "application-xml"])
def test_billion_laughs_without_bom_is_neutralised(
    codec: str, declared: str, start: bytes, headers: dict[str, str]
) -> None:
    data = bomb(9, declared).encode(codec)
    assert_nothing_declared(data, headers)
    result = assert_bounded(data, headers)
    assert result is not None
    assert result.items[0].title == "Bomb &lol9;"


@pytest.mark.parametrize(("codec", "declared", "start"), WIDE_CASES)
def test_item_text_of_a_feed_without_bom(codec: str, declared: str, start: bytes) -> None:
    item = parse(feed(encoding=declared).encode(codec)).items[0]
    assert item.title == "Zürich résumé"
    assert item.html == "Grüße."


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        # The header says utf-8; the bytes are UTF-16LE, and the ü does not decode as UTF-8.
        (bomb(9, "UTF-16").encode("utf-16-le"), {"content-type": "application/rss+xml; charset=utf-8"}),
        # The same, all ASCII: UTF-8 decodes it, NULs and all, and feedparser parses that.
        (bomb(9, "UTF-16", body="Ok.").encode("utf-16-le"), {"content-type": "application/xml; charset=utf-8"}),
        # The header says utf-16; the bytes are ASCII, of even length (decodes as UTF-16) and of odd.
        (bomb(9, "utf-8").encode("ascii", "replace"), {"content-type": "application/xml; charset=utf-16"}),
        (bomb(9, "utf-8").encode("ascii", "replace") + b" ", {"content-type": "application/xml; charset=utf-16"}),
        (bomb(9, "utf-8").encode("utf-8"), {"content-type": "text/xml; charset=utf-16le"}),
        # text/* without a charset means us-ascii, which the NULs of UTF-16BE satisfy.
        (bomb(9, "UTF-16", body="Ok.").encode("utf-16-be"), {"content-type": "text/xml"}),
        # The header says utf-8 or cp037 and the bytes are the other.
        (bomb(9, "cp037").encode("cp037"), {"content-type": "application/xml; charset=utf-8"}),
        (bomb(9, "utf-8").encode("utf-8"), {"content-type": "application/xml; charset=cp037"}),
        # A BOM that contradicts both the header and the declaration.
        (codecs.BOM_UTF16_LE + bomb(9, "utf-8").encode("utf-16-le"), {"content-type": "text/xml; charset=utf-8"}),
    ],
    ids=[
        "utf8-header-utf16le-bytes",
        "utf8-header-ascii-utf16le-bytes",
        "utf16-header-even-ascii",
        "utf16-header-odd-ascii",
        "utf16le-header-utf8",
        "text-xml-utf16be-bytes",
        "utf8-header-ebcdic",
        "ebcdic-header-utf8",
        "bom-against-all",
    ],
)
def test_a_charset_header_contradicting_the_bytes(data: bytes, headers: dict[str, str]) -> None:
    assert_nothing_declared(data, headers)
    assert_bounded(data, headers)


def test_a_contradicting_header_still_gives_the_text_feedparser_would() -> None:
    data = feed(encoding="UTF-16").encode("utf-16-le")
    item = parse(data, {"content-type": "application/rss+xml; charset=utf-8"}).items[0]
    assert (item.title, item.html) == ("Zürich résumé", "Grüße.")


@pytest.mark.parametrize(
    ("prolog", "refusal"),
    [
        # Put together from the text around a declaration the stripper removes.
        ('<!EN<!ENTITY x "y">TITY lol "lol">\n', "entities"),
        ('<!DOC<!ENTITY x "y">TYPE rss>\n', "DTD"),
        # Unterminated: a literal, a comment or the internal subset that the text ends inside.
        ('<!ENTITY lol "lol>\n', "entities"),
        ('<!DOCTYPE rss [ <!ENTITY lol "lol"> <!-- ]>\n', "entities"),
        ('<!DOCTYPE rss [ <!ENTITY lol "lol">\n', "entities"),
        ('<!DOCTYPE rss [ [ <!ENTITY lol "lol"> ]>\n', "entities"),
        ("<!DOCTYPE rss [ <?pi ]>\n", "DTD"),
    ],
    ids=["assembled-entity", "assembled-doctype", "open-literal", "open-comment", "no-close", "nested-open", "open-pi"],
)
def test_a_payload_still_declaring_after_neutralising_is_refused(prolog: str, refusal: str) -> None:
    for codec, declared in [("utf-8", "utf-8"), ("utf-16-le", "UTF-16"), ("cp037", "cp037")]:
        data = feed(prolog, encoding=declared).encode(codec)
        with pytest.raises(PermanentError, match=rf"payload declares .*{refusal}.*: refused"):
            parse(data)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/rss.dtd">',
        "<!doctype rss>",
        "<! DOCTYPE rss>",
        '<!DOCTYPE rss [ <!ENTITY a "]>"> ]>',
        '<!DOCTYPE rss [ <!ENTITY a "x>y"> <!-- ] > --> <?pi ]> ?> ]>',
        "<!DOCTYPE rss [ <![INCLUDE[ <!ENTITY b 'c'> ]]> ]>",
        "<!DOCTYPE rss SYSTEM 'http://169.254.169.254/latest/' [ <!ENTITY % pe SYSTEM 'file:///etc/passwd'> %pe; ]>",
        '<!ENTITY nbsp "&#160;"><! entity stray "x">',
    ],
    ids=["netscape", "lower-case", "space", "literal-close", "comment-pi", "nested", "parameter-entity", "standalone"],
)
def test_the_neutraliser_leaves_ordinary_feeds_as_they_parse(prolog: str) -> None:
    for codec, declared in [("utf-8", "utf-8"), ("utf-16-le", "UTF-16"), ("windows-1251", "windows-1251")]:
        title, body = ("Привет", "Мир.") if codec == "windows-1251" else ("Zürich résumé", "Grüße.")
        plain = feed(title=title, encoding=declared, body=body).encode(codec)
        declaring = feed(prolog, title=title, encoding=declared, body=body).encode(codec)
        assert parse(declaring) == parse(plain)
        # The declaration and nothing around it goes: no `]>` or `>` left over in the prolog.
        assert neutralise_declarations(declaring) == neutralise_declarations(plain)


@pytest.mark.parametrize("offset", [4093, 4094, 4095, 4096, 65533, 65535, 65536, 65537])
def test_declarations_across_old_chunk_boundaries(offset: int) -> None:
    padding = "<!--" + "x" * (offset - 7) + "-->"
    declaration = '<!DOCTYPE rss [ <!ENTITY a "b"> ]>'
    data = feed(padding + declaration + "\n").encode("utf-8")
    assert neutralise_declarations(data) == neutralise_declarations(feed(padding + "\n").encode("utf-8"))


@pytest.mark.parametrize(
    ("unit", "refused"),
    [("<!ENTITY ", True), ("<!DOCTYPE ", True), ("<!DOCTYPE rss [", True), ("<!ENTITY a 'b'>", False)],
)
def test_many_pathological_declarations(unit: str, refused: bool) -> None:
    """30,000 declarations after the feed's last `>`: unterminated (refused) or not (stripped).

    The regex stripper this replaced took seconds on the unterminated `<!ENTITY `s, 4x more per doubling.
    """
    data = (feed() + unit * 30_000).encode("utf-8")  # after the last `>` of the feed
    if refused:
        with pytest.raises(PermanentError, match="refused"):
            neutralise_declarations(data)
    else:
        assert neutralise_declarations(data) == neutralise_declarations(feed().encode("utf-8"))


@pytest.mark.parametrize("line", ["<!ENTITY a 'b'>\n", "\n", " \r\n\t"], ids=["stripped", "blank", "blanks"])
def test_blank_lines_before_the_first_element_become_one(line: str) -> None:
    """feedparser's DOCTYPE search is quadratic in blank lines there; 30,000 of them took seconds."""
    data = feed(line * 30_000 + "<!-- a\n\n b -->\n").encode("utf-8")
    out = neutralise_declarations(data)
    head = out[: out.index(b"<rss")]
    assert b"\n\n" not in head
    assert head.endswith(b"<!-- a\nb -->\n")  # comments there too: feedparser reads them as lines
    assert parse(data) == parse(feed().encode("utf-8"))


def test_a_long_first_line_of_encoding_attributes() -> None:
    """feedparser's own regex over this line takes cubic time; the neutraliser reads it in one pass."""
    data = ("<?xml " + "encoding='koi8-r' " * 20_000 + "?><rss/>").encode()
    out = neutralise_declarations(data)
    assert out.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<rss/>")


@pytest.mark.parametrize(
    ("encoding", "title"),
    [("undefined", "t"), ("unicode_escape", "\\ud800"), ("utf-7", "+2AA-")],
    ids=["undefined-codec", "lone-surrogate", "utf-7-surrogate"],
)
def test_codecs_that_crash_feedparser_fall_back(encoding: str, title: str) -> None:
    data = feed(title=title, encoding=encoding, body="x").encode("ascii")
    with pytest.raises(ValueError):  # UnicodeError and UnicodeEncodeError are ValueErrors
        feedparser.parse(data)
    assert parse(data).items[0].title == title


def test_the_charset_header_is_said_as_utf8() -> None:
    headers = {"content-type": "application/rss+xml; charset=UTF-16; x=1", "content-location": "https://e.org/"}
    assert utf8_headers(headers) == {
        "content-type": "application/rss+xml; charset=utf-8",
        "content-location": "https://e.org/",
    }
    assert utf8_headers({"content-type": "text/xml"}) == {"content-type": "text/xml"}
    assert utf8_headers({}) == {}


_PIECES = ["<?xml", "<?", "?>", " version='1.0'", " encoding=", "'", '"', "\n", "<rss>", "ü", "П", "x", " "]
_NAMES = ["utf-8", "UTF-16", "utf-16be", "utf-32", "cp037", "cp500", "latin1", "windows-1251", "gb2312", "bogus", ""]
_CODECS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "latin1"]
_TYPES = ["application/xml", "application/atom+xml", "text/xml", "text/html", "application/octet-stream", ""]


@st.composite
def _payloads(draw: st.DrawFn) -> bytes:
    text = "".join(draw(st.lists(st.sampled_from(_PIECES + _NAMES), max_size=12)))
    bom = draw(st.sampled_from(["", "\ufeff"])).encode("utf-8")
    return bom + text.encode(draw(st.sampled_from(_CODECS)), "replace")


_HEADERS = st.one_of(
    st.just({}),
    st.just({"content-location": "https://example.org/"}),
    st.builds(
        lambda mime, charset: {"content-type": mime + (f"; charset={charset}" if charset else "")},
        st.sampled_from(_TYPES),
        st.sampled_from(_NAMES),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payloads(), _HEADERS)
def test_decoding_agrees_with_feedparser(data: bytes, headers: dict[str, str]) -> None:
    expected = convert_to_utf8(dict(headers), data, {})
    text = feedparser_text(data, headers)
    declaration = "<?xml version='1.0' encoding='utf-8'?>"
    if text.startswith("<?xml") and ">" in text:
        text = declaration + text[text.index(">") + 1 :]
    else:
        text = declaration + "\n" + text
    assert text.encode("utf-8") == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["<?", "?>", "encoding=", "'", '"', "a", "\n", "utf-8", "="]), max_size=14))
def testdeclared_encoding_agrees_with_feedparsers_regex(parts: list[str]) -> None:
    line = "".join(parts).encode()
    match = RE_XML_PI_ENCODING.match(line)
    assert declared_encoding(line, "") == (match.group(1).decode().lower() if match else "")
