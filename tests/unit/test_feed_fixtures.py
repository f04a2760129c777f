"""Feed fixtures parsed offline: each case's bytes with its recorded response headers, parsed and normalised,
against `case.expected.json` (see tests/support/feeds.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.parse import parse_payload
from tests.support.feeds import CASES, FETCHED_AT, RAW_KEY, check, feed_case


@pytest.mark.parametrize("path", CASES, ids=[c.name for c in CASES])
def test_feed_case(path: Path) -> None:
    case = feed_case(path)
    check(case, lambda: parse_payload(path.read_bytes(), case.source, RAW_KEY, FETCHED_AT, case.headers))
