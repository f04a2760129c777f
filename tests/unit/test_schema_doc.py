from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.models import Article

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_every_article_field_is_documented() -> None:
    documented = SCHEMA_DOC.read_text()
    missing = [name for name in Article.model_fields if f"| `{name}` |" not in documented]
    assert missing == []


def test_news_schema_prints_the_json_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "Article"
    assert schema["properties"]["schema_version"]["const"] == 1
    assert set(schema["properties"]) == set(Article.model_fields)


def test_digest_schema_file_is_current() -> None:
    from pipeline.models import Digest

    current = json.dumps(Digest.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert (SCHEMA_DOC.parent / "digest.schema.json").read_text() == current, "run: news schema --digest > docs/..."


def test_every_digest_story_field_is_documented() -> None:
    from pipeline.models import DigestStory

    documented = (SCHEMA_DOC.parent / "digest.md").read_text()
    assert [name for name in DigestStory.model_fields if f"`{name}`" not in documented] == []
