"""Load and validate `sources.toml`; errors name the file, the source and the field."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.models import Rule, Source, SourceKind
from pipeline.settings import Settings
from pipeline.sources.inbox import INBOX_ID

if TYPE_CHECKING:
    from pipeline.rules import RuleSet

__all__ = ["Registry", "RegistryError", "load_registry", "load_sources", "read_sources_file"]


class RegistryError(ConfigError):
    """The sources file is missing or invalid."""


@dataclass(frozen=True)
class Registry:
    path: Path
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...] = ()  # the global `[[rules]]`; each source holds its own

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
        return replace(self, sources=(*self.sources, source))

    def rules_for(self, source_id: str) -> RuleSet:
        """The rules a source's articles go through: the global ones, then its own."""
        from pipeline.rules import RuleSet

        source = next((s for s in self.sources if s.id == source_id), None)
        return RuleSet.for_source(self.rules, source)

    def select(self, ids: list[str] | None = None) -> list[Source]:
        """Return the enabled sources, or exactly those named (enabled or not)."""
        if ids:
            return [self.get(i) for i in ids]
        return [s for s in self.sources if s.enabled]


def read_sources_file(path: Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """The sources file's TOML tables; a missing or malformed file raises `error` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"sources file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def load_registry(path: Path) -> Registry:
    data = read_sources_file(path, RegistryError)
    # Other top-level tables (`[[watchlists]]`, ...) belong to their own readers: not an error here.
    entries, rule_entries = data.get("sources", []), data.get("rules", [])
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: `sources` must be an array of tables ([[sources]])")
    if not isinstance(rule_entries, list):
        raise RegistryError(f"{path}: `rules` must be an array of tables ([[rules]])")
    sources: list[Source] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, start=1):
        label = f"source #{n}" + (f" ({entry['id']!r})" if isinstance(entry, dict) and "id" in entry else "")
        try:
            sources.append(Source.model_validate(entry))
            problems += _rule_problems(f"{path}: {label}: ", sources[-1].rules)
        except ValidationError as exc:
            listed = entry.get("rules") if isinstance(entry, dict) else None
            problems += [f"{path}: {label}: {_where(err['loc'], listed)}: {err['msg']}" for err in exc.errors()]
    rules: list[Rule] = []
    for n, entry in enumerate(rule_entries, start=1):
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as exc:
            problems += [
                f"{path}: {_where(('rules', n - 1, *err['loc']), rule_entries)}: {err['msg']}" for err in exc.errors()
            ]
    problems += _rule_problems(f"{path}: ", rules)
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            problems.append(f"{path}: source {source.id!r}: id: duplicate id")
        seen.add(source.id)
    if problems:
        raise RegistryError("invalid sources file:\n  " + "\n  ".join(problems))
    return Registry(path.resolve(), tuple(sources), tuple(rules))


def _rule_problems(prefix: str, rules: list[Rule]) -> list[str]:
    """What a valid table can still get wrong: a regex RE2 cannot compile, a name used twice in the list."""
    from pipeline.rules import compile_regex  # RE2 loads only for a file with rules

    problems = []
    for n, rule in enumerate(rules, start=1):
        try:
            if rule.regex is not None:
                compile_regex(rule.regex)
        except ValueError as exc:
            problems.append(f"{prefix}rule #{n} ({rule.name!r}): regex: {exc}")
        if any(r.name == rule.name for r in rules[: n - 1]):
            problems.append(f"{prefix}rule #{n} ({rule.name!r}): name: duplicate name")
    return problems


def _where(loc: tuple[int | str, ...], rules: Any) -> str:
    """A validation error's place: `rule #2 ('name'): regex` within a rules list, else the field's path."""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        entry = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = f" ({entry['name']!r})" if isinstance(entry, dict) and "name" in entry else ""
        return f"rule #{loc[1] + 1}{name}: " + (".".join(str(p) for p in loc[2:]) or "(entry)")
    return ".".join(str(p) for p in loc) or "(entry)"


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
