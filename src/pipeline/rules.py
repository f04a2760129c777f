"""The rules of `sources.toml`: keep, drop or tag an article by words or a regex on its fields.

Drop beats keep: an article that any drop rule matches is dropped. The keep rules of one list (the global
`[[rules]]`, or a source's own) are an allow-list: when a list has any, an article must match one of them.
Both lists apply to a source's articles, so each allow-list must let the article through. Tag rules add tags
to the articles kept. Regexes are RE2 (linear in the text: no pattern can backtrack for ever); words are
matched as whole words, case-insensitively, in any script that separates words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]

from pipeline.models import Article, EntityType, Rule, RuleAction, RuleField, Source

__all__ = ["GLOBAL", "ITEM_FIELDS", "RuleSet", "RuleTrial", "Verdict", "compile_regex", "try_rules"]

GLOBAL = "global"  # the scope of the `[[rules]]` list
# Known before enrichment; language and entities are only known after it.
ITEM_FIELDS = frozenset({RuleField.TITLE, RuleField.TEXT, RuleField.URL, RuleField.AUTHOR, RuleField.CATEGORIES})
_ENTITY_TYPE = {
    RuleField.PERSON: EntityType.PERSON,
    RuleField.ORGANISATION: EntityType.ORGANISATION,
    RuleField.PLACE: EntityType.PLACE,
}
_RE2_MEMORY = 8 << 20  # per regex: beyond it RE2 falls back to a slower automaton, still linear


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Any:
    """The RE2 regex of a rule; ValueError with RE2's reason when it is not valid RE2 syntax."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _RE2_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a valid RE2 regex: {reason}") from None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=1024)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a rule's words: literals only (no backtracking to speak of), at word boundaries."""
    phrases = {r"\s+".join(re.escape(part) for part in _fold(word).split()) for word in words}
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(phrases, key=len, reverse=True)) + r")(?!\w)")


class _View:
    """An article's values per rule field, each worked out once however many rules read it."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self._values: dict[tuple[RuleField, bool], list[str]] = {}

    def values(self, name: RuleField, folded: bool) -> list[str]:
        found = self._values.get((name, folded))
        if found is None:
            found = [_fold(v) for v in self.values(name, False)] if folded else _field_values(self.article, name)
            self._values[(name, folded)] = found
        return found


def _field_values(article: Article, name: RuleField) -> list[str]:
    if name is RuleField.TITLE:
        return [article.title]
    if name is RuleField.TEXT:
        return [article.text]
    if name is RuleField.URL:
        return [u for u in (article.url, article.canonical_url) if u]
    if name is RuleField.AUTHOR:
        return list(article.authors)
    if name is RuleField.CATEGORIES:
        return [*article.categories, *([article.section] if article.section else [])]
    if name is RuleField.LANGUAGE:
        return [article.language] if article.language else []
    if name is RuleField.COUNTRY:
        return sorted({e.country for e in article.entities if e.country})
    return [e.name for e in article.entities if e.type is _ENTITY_TYPE[name]]


@dataclass(frozen=True)
class _Matcher:
    rule: Rule
    scope: str
    search: Callable[[str], bool]
    folded: bool

    @classmethod
    def of(cls, rule: Rule, scope: str) -> _Matcher:
        if rule.regex is not None:
            regex = compile_regex(rule.regex)
            return cls(rule, scope, lambda value: regex.search(value) is not None, folded=False)
        pattern = _words_pattern(tuple(rule.words))
        return cls(rule, scope, lambda value: pattern.search(value) is not None, folded=True)

    @property
    def item_only(self) -> bool:
        return all(f in ITEM_FIELDS for f in self.rule.fields)

    @property
    def tag(self) -> str:
        return self.rule.tag or self.rule.name

    def matches(self, view: _View) -> bool:
        return any(self.search(v) for name in self.rule.fields for v in view.values(name, self.folded))


@dataclass(frozen=True)
class Verdict:
    """What the rules make of one article: kept (with its tags) or dropped, and why."""

    kept: bool
    tags: tuple[str, ...] = ()
    reason: str | None = None


class RuleSet:
    """The rules that apply to one source's articles: the global list, then the source's own."""

    def __init__(self, scopes: Sequence[tuple[str, Sequence[Rule]]]) -> None:
        self.scopes = [(scope, [_Matcher.of(r, scope) for r in rules]) for scope, rules in scopes if rules]

    @classmethod
    def for_source(cls, global_rules: Sequence[Rule], source: Source | None) -> RuleSet:
        return cls([(GLOBAL, global_rules), *([(source.id, source.rules)] if source else [])])

    def __bool__(self) -> bool:
        return bool(self.scopes)

    @property
    def matchers(self) -> list[_Matcher]:
        return [m for _, matchers in self.scopes for m in matchers]

    def screen(self, article: Article) -> Verdict | None:
        """Before enrichment: the drop that the item's own fields already decide, else None (judge it later)."""
        reason = self._dropped(_View(article), item_only=True)
        return Verdict(kept=False, reason=reason) if reason else None

    def judge(self, article: Article) -> Verdict:
        """After enrichment: kept with its tags, or dropped."""
        view = _View(article)
        reason = self._dropped(view, item_only=False)
        if reason:
            return Verdict(kept=False, reason=reason)
        tagging = (m for m in self.matchers if m.rule.action is RuleAction.TAG)
        return Verdict(kept=True, tags=tuple(sorted({m.tag for m in tagging if m.matches(view)})))

    def apply(self, articles: Iterable[Article]) -> tuple[list[Article], int]:
        """The articles kept, each with its tags, and how many were dropped."""
        kept: list[Article] = []
        dropped = 0
        for article in articles:
            verdict = self.judge(article) if self else Verdict(kept=True)
            if verdict.kept:
                kept.append(article.model_copy(update={"tags": list(verdict.tags)}))
            else:
                dropped += 1
        return kept, dropped

    def _dropped(self, view: _View, item_only: bool) -> str | None:
        for m in self.matchers:
            if m.rule.action is RuleAction.DROP and (m.item_only or not item_only) and m.matches(view):
                return f"dropped by rule {m.rule.name!r} ({m.scope})"
        for scope, matchers in self.scopes:
            keeps = [m for m in matchers if m.rule.action is RuleAction.KEEP]
            if not keeps or (item_only and not all(m.item_only for m in keeps)):
                continue  # no allow-list here, or one that needs the enrichment to decide
            if not any(m.matches(view) for m in keeps):
                return f"no keep rule of {scope} matched"
        return None


@dataclass
class RuleTrial:
    """What one rule does to a set of stored articles: how many it matches, and a few of their titles."""

    scope: str
    rule: Rule
    matched: int = 0
    titles: list[str] = field(default_factory=list)


def try_rules(
    global_rules: Sequence[Rule], sources: Sequence[Source], articles: Iterable[Article], examples: int = 3
) -> tuple[list[RuleTrial], dict[str, int]]:
    """Each rule's matches over `articles`, and the outcome of all the rules: kept, dropped, tagged."""
    by_id = {s.id: s for s in sources}
    trials = {(GLOBAL, r.name): RuleTrial(GLOBAL, r) for r in global_rules}
    trials |= {(s.id, r.name): RuleTrial(s.id, r) for s in sources for r in s.rules}
    sets: dict[str, RuleSet] = {}
    outcome = {"articles": 0, "kept": 0, "dropped": 0, "tagged": 0}
    for article in articles:
        rules = sets.get(article.source)
        if rules is None:
            rules = sets[article.source] = RuleSet.for_source(global_rules, by_id.get(article.source))
        view = _View(article)
        for m in rules.matchers:
            if m.matches(view):
                trial = trials[(m.scope, m.rule.name)]
                trial.matched += 1
                if len(trial.titles) < examples:
                    trial.titles.append(article.title)
        verdict = rules.judge(article)
        outcome["articles"] += 1
        outcome["kept" if verdict.kept else "dropped"] += 1
        outcome["tagged"] += bool(verdict.tags)
    return list(trials.values()), outcome
