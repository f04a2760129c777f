from __future__ import annotations

import tomllib
from pathlib import Path

import listparser
import pytest
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.models import Source, SourceKind
from pipeline.sources import RegistryError, load_registry
from pipeline.sources.additions import add_sources
from pipeline.sources.opml import read_opml
from tests.support.paths import OPML

FRESHRSS = OPML / "freshrss-export.opml"
USER_FILE = '# My sources: hand-written, with comments to keep.\n\n[[sources]]\nid = "mine"  # the first one\n'
USER_FILE += 'kind = "feed"\nurl = "https://valley-times.example/feed/atom"\n'


def _news(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_a_freshrss_export_reads_with_folders_as_tags() -> None:
    feeds = read_opml(FRESHRSS.read_bytes(), FRESHRSS.name)
    assert [(f.title, f.tags, f.line) for f in feeds] == [
        ("Harbour Gazette \u2013 World", ("World",), 9),
        ("Valley Times & Record", ("World",), 10),
        ("Lab Notes", ("Science",), 13),
        ("Ørsted Observatory", ("Science",), 14),
        ("Lab Notes", ("Uncategorized",), 17),
    ]


def test_import_appends_sources_keeps_the_users_text_and_skips_known_feeds(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(USER_FILE)
    result = _news("sources", "import", str(FRESHRSS), "--sources", str(sources))
    assert result.exit_code == 0, result.output
    assert "4 added, 1 already present" in result.output
    assert "as 'mine'" in result.output
    text = sources.read_text()
    assert text.startswith(USER_FILE)
    registry = load_registry(sources)
    assert [(s.id, s.kind, s.name, s.tags) for s in registry.sources[1:]] == [
        ("harbour-gazette-world", SourceKind.FEED, "Harbour Gazette \u2013 World", ["World"]),
        ("lab-notes", SourceKind.JSONFEED, "Lab Notes", ["Science"]),
        ("rsted-observatory", SourceKind.FEED, "Ørsted Observatory", ["Science"]),
        ("lab-notes-2", SourceKind.FEED, "Lab Notes", ["Uncategorized"]),
    ]
    assert tomllib.loads(text)["sources"][0]["id"] == "mine"

    again = _news("sources", "import", str(FRESHRSS), "--sources", str(sources))
    assert again.exit_code == 0, again.output
    assert "0 added, 5 already present" in again.output
    assert sources.read_text() == text


def test_import_gives_the_same_ids_for_the_same_list(tmp_path: Path) -> None:
    ids = []
    for name in ("a.toml", "b.toml"):
        assert _news("sources", "import", str(FRESHRSS), "--sources", str(tmp_path / name)).exit_code == 0
        ids.append([s.id for s in load_registry(tmp_path / name).sources])
    assert ids[0] == ids[1] and len(set(ids[0])) == 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '<opml version="2.0"><body>\n<outline text="a" xmlUrl="https://a.example/rss">\n</body></opml>',
            ":3: malformed OPML",
        ),
        (
            '<opml version="2.0"><body>\n<outline xmlUrl="https://a.example/rss"/>\n'
            '<outline xmlUrl="https://A.example/rss?utm_medium=x"/>\n</body></opml>',
            ":3: duplicate feed URL 'https://A.example/rss?utm_medium=x' (first on line 2)",
        ),
        (
            '<opml version="2.0"><body>\n<outline text="A"><outline xmlUrl="https://a.example/rss"/></outline>\n'
            '<outline text="B">\n<outline xmlUrl="https://a.example/rss"/></outline>\n</body></opml>',
            ":4: duplicate feed URL 'https://a.example/rss' (first on line 2)",
        ),
        (
            '<opml version="2.0"><body>\n<outline xmlUrl="https://a.example/rss"/>\n'
            '<outline xmlUrl="ftp://b.example/rss"/>\n</body></opml>',
            ":3: 'ftp://b.example/rss' is not an http(s) URL",
        ),
        ('<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', ":2: not OPML"),
        ('<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "DOCTYPE and ENTITY declarations"),
    ],
)
def test_bad_opml_is_refused_naming_the_line_and_nothing_is_written(tmp_path: Path, body: str, message: str) -> None:
    opml, sources = tmp_path / "feeds.opml", tmp_path / "sources.toml"
    opml.write_text(body)
    sources.write_text(USER_FILE)
    result = _news("sources", "import", str(opml), "--sources", str(sources))
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert sources.read_text() == USER_FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.opml", "sources.toml"]


def test_an_invalid_result_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(USER_FILE)
    clash = Source(id="mine", kind=SourceKind.FEED, url="https://other.example/rss")  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="duplicate id"):
        add_sources(sources, [clash])
    assert sources.read_text() == USER_FILE
    assert [p.name for p in tmp_path.iterdir()] == ["sources.toml"]


def test_export_is_opml_2_with_folders_that_imports_back_the_same(tmp_path: Path) -> None:
    first, second, exported = tmp_path / "first.toml", tmp_path / "second.toml", tmp_path / "out.opml"
    assert _news("sources", "import", str(FRESHRSS), "--sources", str(first)).exit_code == 0
    result = _news("sources", "export", "-o", str(exported), "--sources", str(first))
    assert result.exit_code == 0, result.output
    data = exported.read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">")
    parsed = listparser.parse(data)
    assert not parsed.bozo
    assert {(f.url, f.title, tuple(f.categories[0])) for f in parsed.feeds} == {
        (str(s.url), s.name, (s.tags[0],)) for s in load_registry(first).sources
    }
    assert b'type="rss"' in data and b'htmlUrl="https://labnotes.example/"' in data
    assert _news("sources", "import", str(exported), "--sources", str(second)).exit_code == 0
    assert load_registry(second).sources == load_registry(first).sources


def test_export_to_stdout_leaves_out_documents_and_sitemap_sources(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nid = "docs"\nkind = "documents"\npath = "docs"\n\n'
        '[[sources]]\nid = "map"\nkind = "sitemap"\nurl = "https://m.example/robots.txt"\n\n' + USER_FILE[50:]
    )
    result = _news("sources", "export", "--sources", str(sources))
    assert result.exit_code == 0, result.output
    feeds = listparser.parse(result.stdout_bytes).feeds
    assert [f.url for f in feeds] == ["https://valley-times.example/feed/atom"]


def test_titles_with_quotes_backslashes_and_control_characters_survive_the_toml(tmp_path: Path) -> None:
    opml, sources = tmp_path / "feeds.opml", tmp_path / "sources.toml"
    title = "A &quot;quoted&quot; \\ back&#9;slash&#127; [title]\n= 1"
    opml.write_text(f'<opml version="2.0"><body><outline text="{title}" xmlUrl="https://q.example/rss"/></body></opml>')
    result = _news("sources", "import", str(opml), "--sources", str(sources))
    assert result.exit_code == 0, result.output
    (source,) = load_registry(sources).sources
    assert source.name == 'A "quoted" \\ back slash\x7f [title] = 1'  # a name is one line
    assert source.id == "a-quoted-back-slash-title-1"
