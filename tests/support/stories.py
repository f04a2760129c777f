"""The labelled story set (tests/eval/stories.toml): its outlets and articles, as the pipeline would read them."""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.models import Article
from pipeline.normalise import normalise_item
from tests.support.articles import raw_item
from tests.support.paths import ROOT

# The set lives in tests/eval; NEWS_EVAL_STORIES points at another copy while one is being written.
STORY_SET = Path(os.environ.get("NEWS_EVAL_STORIES") or ROOT / "tests" / "eval" / "stories.toml")


def load_story_set(path: Path = STORY_SET) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Outlets by id, and the labelled articles."""
    data = tomllib.loads(path.read_text())
    return {o["id"]: o for o in data.get("outlets", [])}, list(data.get("articles", []))


def story_article(case: dict[str, Any], outlets: dict[str, dict[str, Any]]) -> Article:
    """One labelled article, normalised as if its outlet's feed had given it."""
    outlet = outlets.get(case["outlet"], {})
    paragraphs = [p.strip() for p in case["text"].strip().split("\n\n") if p.strip()]
    item = raw_item(
        case["title"],
        paragraphs,
        published_at=datetime.fromisoformat(case["published_at"]),
        source=case["outlet"],
        raw_key=f"eval/{case['id']}",
        url=f"https://{case['outlet']}.example/{case['id']}",
    )
    article = normalise_item(item.model_copy(update={"source_name": outlet.get("name"), "language_hint": None}))
    return article


def report(article_id: str, source: str, title: str, text: str, published_at: str, language: str = "en") -> Article:
    """A hand-written report, normalised, with its language set as the enricher would."""
    case = {"id": article_id, "outlet": source, "title": title, "text": text, "published_at": published_at}
    return story_article(case, {}).model_copy(update={"language": language})
