"""Rules of `sources.toml`: a rule set judged over made-up articles against the same rules as plain `re`
searches, and a backtracking pattern in RE2 against Python's `re`.

Both sides run in this process, in turn, best of `ROUNDS`; `python bench/rules.py` prints JSON.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ARTICLES = 2000
WORD_RULES = 20  # each of ten words or phrases
REGEX_RULES = 5
GOAL = 3.0  # judging at most this many times the plain `re` searches (it also folds case and Unicode forms)
BACKTRACK = 22  # `(a+)+b` over "a" * this + "c": about 1.5 s in `re`, each two more characters four times that


def _rules(vocabulary: list[str]) -> list[Any]:
    from pipeline.models import Rule

    rng = random.Random(7)  # noqa: S311 - a repeatable sample, not a secret
    rules = []
    for n in range(WORD_RULES):
        words = [" ".join(rng.sample(vocabulary, rng.choice([1, 1, 2]))) for _ in range(10)]
        action = ["drop", "tag", "keep"][n % 3]
        rules.append(Rule(name=f"words-{n}", action=action, words=words))
    for n in range(REGEX_RULES):
        stem = rng.choice(vocabulary)[:4]
        rules.append(Rule(name=f"regex-{n}", action="tag", regex=rf"(?i)\b{stem}[a-z]*\b \d+"))
    return rules


def _plain(rules: list[Any]) -> list[re.Pattern[str]]:
    """The same rules as most filters write them: one case-insensitive `re` pattern each."""
    patterns = []
    for rule in rules:
        if rule.regex is not None:
            patterns.append(re.compile(rule.regex))
        else:
            words = "|".join(r"\s+".join(map(re.escape, w.split())) for w in rule.words)
            patterns.append(re.compile(rf"\b(?:{words})\b", re.IGNORECASE))
    return patterns


def bench_rules() -> dict[str, Any]:
    from sources import _best
    from stories import window_articles

    from pipeline.rules import RuleSet, compile_regex

    articles = window_articles(ARTICLES)
    vocabulary = sorted({w for a in articles[:200] for w in a.title.lower().split()})
    rules = _rules(vocabulary)
    ruleset = RuleSet.for_source(rules, None)
    patterns = _plain(rules)

    def plain() -> None:
        for article in articles:
            for pattern in patterns:
                pattern.search(article.title) or pattern.search(article.text)

    judged = _best(lambda: [ruleset.judge(a) for a in articles])
    baseline = _best(plain)
    verdicts = [ruleset.judge(a) for a in articles]
    hostile, long_text = "a" * BACKTRACK + "c", "a" * 1_000_000 + "c"
    started = time.perf_counter()
    re.search(r"(a+)+b", hostile)  # once: it is the slow side
    python_re = time.perf_counter() - started
    re2_long = _best(lambda: compile_regex(r"(a+)+b").search(long_text))
    return {
        "articles": ARTICLES,
        "mean_words": round(sum(len(a.text.split()) for a in articles) / ARTICLES),
        "rules": len(rules),
        "kept": sum(v.kept for v in verdicts),
        "tagged": sum(bool(v.tags) for v in verdicts),
        "judge_us_per_article": round(judged / ARTICLES * 1e6),
        "plain_re_us_per_article": round(baseline / ARTICLES * 1e6),
        "ratio": round(judged / baseline, 2),
        "goal": f"at most {GOAL}x the plain `re` searches",
        "backtrack_chars": BACKTRACK,
        "python_re_backtrack_s": round(python_re, 2),
        "re2_backtrack_ms": round(_best(lambda: compile_regex(r"(a+)+b").search(hostile)) * 1e3, 3),
        "re2_million_chars_ms": round(re2_long * 1e3, 1),
    }


def markdown(r: dict[str, Any]) -> list[str]:
    from sources import ROUNDS

    return [
        "## Rules: a rule set over articles, and a backtracking pattern",
        "",
        f"{r['rules']} rules ({WORD_RULES} of ten words or phrases each, keep, drop and tag; {REGEX_RULES} RE2 "
        f"regexes) judged over {r['articles']} made-up articles of about {r['mean_words']} words (title and "
        f"text, as a rule without `fields` reads them): {r['kept']} kept, {r['tagged']} of them tagged. Baseline: "
        "the same rules as one case-insensitive `re` pattern each, searched in title and text, with no Unicode "
        f"case folding or normal forms. Best of {ROUNDS} in one process.",
        "",
        "| | per article | against baseline | goal |",
        "| --- | --- | --- | --- |",
        f"| plain `re` searches (baseline) | {r['plain_re_us_per_article']} µs | 1.00x | |",
        f"| `RuleSet.judge` | {r['judge_us_per_article']} µs | {r['ratio']}x | {r['goal']} |",
        "",
        f"A rule someone wrote as `(a+)+b`, over {r['backtrack_chars']} letters and a `c`: Python's `re` takes "
        f"{r['python_re_backtrack_s']} s (four times that for each two more letters: a short paragraph never "
        f"ends); RE2 answers in {r['re2_backtrack_ms']} ms, and in {r['re2_million_chars_ms']} ms over a "
        "million letters.",
    ]


if __name__ == "__main__":
    print(json.dumps(bench_rules()))
