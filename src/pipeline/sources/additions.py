"""Add sources to a `sources.toml` without rewriting it: new `[[sources]]` tables are appended, the user's text
and comments stay, and the result is validated before it replaces the file."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.models import Source
from pipeline.sources.registry import Registry, RegistryError, load_registry

__all__ = ["add_sources", "render_source", "slug_id", "unique_id"]

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_ID = 48  # room for a `-N` suffix within the 63 characters a slug may have


def slug_id(title: str | None, url: str) -> str:
    """A stable slug from a title (or the URL's host and path when the title gives none)."""
    for text in (title or "", _url_words(url)):
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        slug = _NON_SLUG.sub("-", ascii_text).strip("-")[:_MAX_ID].strip("-")
        if slug:
            return slug
    return "feed"


def _url_words(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host} {parts.path}" if parts.path.strip("/") else host


def unique_id(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... the first not in `taken` (which it joins)."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string: the same escapes (\" \\ \n \uXXXX); DEL, which JSON leaves as it
    # is, TOML does not allow raw.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def render_source(source: Source) -> str:
    """One `[[sources]]` table holding the fields that differ from their defaults."""
    data = source.model_dump(mode="json", exclude_defaults=True)
    ordered = {"id": data.pop("id"), "kind": source.kind.value, **{k: v for k, v in data.items() if k != "kind"}}
    return "[[sources]]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in ordered.items())


def add_sources(path: Path, sources: list[Source]) -> Registry:
    """Append `sources` to the file at `path` (created when missing) and return the new registry.

    The new text is written to a temporary file beside it and loaded as a registry first: the file is only
    replaced (atomically) when the whole result is valid, so nothing is ever half-written.
    """
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    tables = "\n".join(render_source(s) for s in sources)
    text = current + ("\n" if current and not current.endswith("\n") else "") + ("\n" if current else "") + tables
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            registry = load_registry(temp)
        except RegistryError as exc:
            raise RegistryError(f"{path}: not changed, the result would be invalid: {exc}") from None
        if path.exists():
            temp.chmod(path.stat().st_mode & 0o777)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return replace(registry, path=path.resolve())
