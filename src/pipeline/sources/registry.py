"""Load and validate `sources.toml`; errors name the file, the source and the field."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.models import Source, SourceKind
from pipeline.settings import Settings
from pipeline.sources.inbox import INBOX_ID

__all__ = ["Registry", "RegistryError", "load_registry", "load_sources"]


class RegistryError(ConfigError):
    """The sources file is missing or invalid."""


@dataclass(frozen=True)
class Registry:
    path: Path
    sources: tuple[Source, ...]

    @property
    def base_dir(self) -> Path:
        """Relative `path`s of documents sources are relative to the sources file."""
        return self.path.parent

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise RegistryError(f"{self.path}: no source with id {source_id!r}")

    def with_source(self, source: Source) -> Registry:
        if any(s.id == source.id for s in self.sources):
            raise RegistryError(f"{self.path}: source id {source.id!r} is reserved")
        return Registry(self.path, (*self.sources, source))

    def select(self, ids: list[str] | None = None) -> list[Source]:
        """Return the enabled sources, or exactly those named (enabled or not)."""
        if ids:
            return [self.get(i) for i in ids]
        return [s for s in self.sources if s.enabled]


def load_registry(path: Path) -> Registry:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"sources file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("sources", [])
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: `sources` must be an array of tables ([[sources]])")
    sources: list[Source] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, start=1):
        label = f"source #{n}" + (f" ({entry['id']!r})" if isinstance(entry, dict) and "id" in entry else "")
        try:
            sources.append(Source.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "(entry)"
                problems.append(f"{path}: {label}: {field}: {err['msg']}")
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            problems.append(f"{path}: source {source.id!r}: id: duplicate id")
        seen.add(source.id)
    if problems:
        raise RegistryError("invalid sources file:\n  " + "\n  ".join(problems))
    return Registry(path.resolve(), tuple(sources))


def load_sources(settings: Settings) -> Registry:
    """The registry from the sources file, plus the bucket's inbox unless it is turned off."""
    registry = load_registry(settings.sources_file)
    if not settings.inbox_prefix:
        return registry
    inbox = Source(
        id=INBOX_ID,
        kind=SourceKind.DOCUMENTS,
        name="Inbox",
        path=f"s3://{settings.bucket}/{settings.inbox_prefix.strip('/')}/",
        consume=True,
    )
    return registry.with_source(inbox)
