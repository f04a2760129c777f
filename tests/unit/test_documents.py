"""Seed-format documents: each `case.txt` beside `case.expected.json`, parsed and normalised offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import PermanentError
from pipeline.models import Article, Source
from pipeline.normalise import normalise_item
from pipeline.parse import parse_document

CASES = sorted((Path(__file__).parent.parent / "fixtures" / "documents").glob("*.txt"))
SOURCE = Source.model_validate({"id": "seed-articles", "kind": "documents", "path": "articles", "name": "Seeds"})
FETCHED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def normalise_case(path: Path) -> Article:
    raw = parse_document(path.read_bytes(), SOURCE, f"raw/seed-articles/{path.name}", FETCHED_AT)
    return normalise_item(raw)


def observed(article: Article) -> dict[str, Any]:
    """The fields a fixture's expectations speak about."""
    return {
        "title": article.title,
        "title_derived": article.title_derived,
        "published_at": article.published_at.isoformat(),
        "date_source": article.date_source.value,
        "date_flagged": article.date_flagged,
        "lead": article.lead,
        "sections": [{"heading": s.heading, "paragraphs": len(s.paragraphs)} for s in article.sections],
    }


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_document_case(case: Path) -> None:
    expected = json.loads(case.with_suffix(".expected.json").read_text())
    if "quarantine_reason" in expected:
        with pytest.raises(PermanentError, match=expected["quarantine_reason"]):
            normalise_case(case)
        return
    assert observed(normalise_case(case)) == expected


def test_same_document_gets_the_same_id_and_hash() -> None:
    seed = next(c for c in CASES if c.stem == "seed-kamikawa")
    first, second = normalise_case(seed), normalise_case(seed)
    assert (first.id, first.content_hash) == (second.id, second.content_hash)
    assert len(first.id) == 32


def test_derived_title_is_never_cut_mid_word() -> None:
    article = normalise_case(next(c for c in CASES if c.stem == "long-lead"))
    assert len(article.title) <= 120
    assert article.title.endswith("…")
    assert article.lead.startswith(article.title.removesuffix("…"))
    next_char = article.lead[len(article.title) - 1]
    assert next_char == " ", "the title must end at a word boundary"


def test_seed_text_keeps_its_sections_in_order() -> None:
    article = normalise_case(next(c for c in CASES if c.stem == "seed-kamikawa"))
    blocks = article.text.split("\n\n")
    assert blocks[0] == article.lead
    assert [b for b in blocks if b in {"Details", "Optional", "Recall"}] == ["Details", "Optional", "Recall"]
    assert blocks[-2:] == [
        "Recall",
        "Japanese Foreign Minister Yoko Kamikawa arrived in Kyiv on the morning of January 7. "
        "She did not publicize her visit.",
    ]


def test_inbox_names_are_unique_and_processed_keeps_the_claimed_one() -> None:
    from pipeline.storage.keys import inbox_pending_key, inbox_processed_key

    at = datetime(2024, 1, 7, 10, 0, tzinfo=UTC)
    one, two = (inbox_pending_key("inbox/", "a.txt", at, etag) for etag in ("etag-one", "etag-two"))
    assert one.startswith("inbox/pending/20240107T100000Z-") and one.endswith("-a.txt") and one != two
    name = one.removeprefix("inbox/")
    assert inbox_processed_key(one, name) == "inbox/" + name.replace("pending/", "processed/", 1)
    assert inbox_processed_key("inbox/a.txt", "a.txt", FETCHED_AT) == "inbox/processed/20260101T120000Z-a.txt"
    for ignored in ("processed/20240107T100000Z-a.txt", "folder/a.txt", "pending/sub/a.txt", "a.pdf"):
        assert inbox_processed_key(f"inbox/{ignored}", ignored) is None
