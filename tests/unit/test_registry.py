from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sources import RegistryError, load_registry

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_shipped_registry_lists_the_seed_documents() -> None:
    registry = load_registry(ROOT / "seeds" / "sources.toml")
    seed = registry.get("seed-articles")
    assert seed.kind == "documents"
    assert (registry.base_dir / str(seed.path)).is_dir()


def test_errors_name_file_source_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nid = "good"\nkind = "feed"\nurl = "https://example.org/rss"\n'
        '[[sources]]\nid = "bad"\nkind = "feed"\nurl = "not a url"\n'
        '[[sources]]\nid = "Bad Id"\nkind = "documents"\npath = "x"\n',
    )
    with pytest.raises(RegistryError) as exc:
        load_registry(path)
    message = str(exc.value)
    assert f"{path}: source #2 ('bad'): url:" in message
    assert f"{path}: source #3 ('Bad Id'): id:" in message


def test_kind_and_location_must_agree(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nid = "docs"\nkind = "documents"\nurl = "https://example.org/"\n')
    with pytest.raises(RegistryError, match="needs `path`"):
        load_registry(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    entry = '[[sources]]\nid = "same"\nkind = "documents"\npath = "x"\n'
    with pytest.raises(RegistryError, match="duplicate id"):
        load_registry(write(tmp_path, entry * 2))


def test_select_enabled_or_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nid = "on"\nkind = "documents"\npath = "x"\n'
        '[[sources]]\nid = "off"\nkind = "documents"\npath = "y"\nenabled = false\n',
    )
    registry = load_registry(path)
    assert [s.id for s in registry.select()] == ["on"]
    assert [s.id for s in registry.select(["off"])] == ["off"]
    with pytest.raises(RegistryError, match="no source with id 'nope'"):
        registry.select(["nope"])
