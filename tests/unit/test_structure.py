"""The library's import graph: one way down through the layers, no cycle, and never Airflow."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
# Rooms (top-level modules and packages of `pipeline`) by layer; a room imports its own layer or lower ones.
LAYERS = [
    {"models", "errors", "settings", "text"},
    {
        "sources",
        "fetch",
        "decoding",
        "feed_text",
        "parse",
        "html_text",
        "page_meta",
        "normalise",
        "sitemaps",
        "fulltext",
        "enrich",
        "storage",
        "watchlists",
        "rules",
        "review",
    },
    {"stories", "lake", "digest", "seaweed"},
    {"stages"},
    {"cli"},
]
LAYER_OF = {room: n for n, rooms in enumerate(LAYERS) for room in rooms}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {name: {i for i in _imports(path) if i in modules and i != name} for name, path in modules.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_room_has_a_layer() -> None:
    rooms = {_room(m) for m in _graph()} - {""}
    assert rooms == set(LAYER_OF), "add new rooms to LAYERS"


def test_imports_only_go_down_or_sideways() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if _room(module)
        for target in targets
        if _room(target) and LAYER_OF[_room(target)] > LAYER_OF[_room(module)]
    ]
    assert upward == []


def test_no_import_cycle_between_modules_or_rooms() -> None:
    graph = _graph()
    rooms: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        rooms[_room(module)] |= {_room(t) for t in targets if _room(t) != _room(module)}
    for name, edges in (("modules", graph), ("rooms", dict(rooms))):
        assert _cycle(edges) is None, f"import cycle between {name}: {_cycle(edges)}"


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(edges.get(node, ())):
            if found := visit(target):
                return found
        visiting.pop()
        done.add(node)
        return None

    return next((c for c in (visit(n) for n in sorted(edges)) if c), None)


@pytest.mark.parametrize("banned", ["airflow", "dags", "plugins", "news_airflow", "news_triggers"])
def test_the_library_never_imports_airflow_or_its_wiring(banned: str) -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if any(i == banned or i.startswith(banned + ".") for i in _imports(path))
    ]
    assert offenders == []


def test_every_module_says_what_it_is_for() -> None:
    missing = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
