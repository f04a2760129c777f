"""Where things are: the repository, and the fixture folders under tests/fixtures."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DOCUMENTS = FIXTURES / "documents"  # seed-format documents, each beside its `.expected.json`
FEEDS = FIXTURES / "feeds"  # feed payloads, each beside its `.expected.json`
PAGES = FIXTURES / "pages"  # article pages, each beside its `.expected.json`
OPML = FIXTURES / "opml"  # subscription lists in feed readers' export formats
# Data made outside the project, beside the checkout; read from there, never copied in (see its README.md).
CORPORA = ROOT.parent / "shared" / "corpora"
