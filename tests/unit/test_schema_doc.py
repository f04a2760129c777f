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
