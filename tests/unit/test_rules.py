"""Rules: whole-word and RE2 matching on each field, keep/drop/tag semantics, and their validation at load time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.models import Article, Entity, EntityType, Rule, Source
from pipeline.rules import RuleSet, try_rules
from pipeline.sources import RegistryError, load_registry
from tests.support.articles import make_article


def rule(name: str, action: str, **fields: Any) -> Rule:
    return Rule.model_validate({"name": name, "action": action, **fields})


def article(title: str = "A quiet day", text: str = "", **fields: Any) -> Article:
    base = make_article(1, title=title)
    return base.model_copy(update={"text": text or base.text, **fields})


def entity(name: str, kind: EntityType, country: str | None = None) -> Entity:
    return Entity(name=name, type=kind, country=country, count=1, mentions=[])


def kept(rules: list[Rule], item: Article, own: list[Rule] | None = None) -> bool:
    source = Source(id="src", kind="feed", url="https://example.org/rss", rules=own or [])
    return RuleSet.for_source(rules, source).judge(item).kept


@pytest.mark.parametrize(
    ("words", "title", "matched"),
    [
        (["election"], "Election results are in", True),
        (["election"], "Re-elections are planned", False),  # a whole word, not a part of one
        (["Straße"], "STRASSE closed for the parade", True),  # Unicode case folding
        (["Ελλάδα"], "Πλημμύρες στην ελλάδα σήμερα", True),  # any script that separates words
        (["café"], "Cafés reopen", False),
        (["interest rates"], "Central bank raises interest\n rates again", True),  # a phrase across spacing
        (["c++"], "Why C++ is still here", True),
    ],
)
def test_words_match_whole_words_case_insensitively(words: list[str], title: str, matched: bool) -> None:
    assert kept([rule("w", "drop", words=words)], article(title)) is not matched


def test_regex_is_re2_and_case_sensitive_unless_asked() -> None:
    assert not kept([rule("r", "drop", regex=r"^Live:")], article("Live: the match"))
    assert kept([rule("r", "drop", regex=r"^live:")], article("Live: the match"))
    assert not kept([rule("r", "drop", regex=r"(?i)^live:")], article("Live: the match"))


def test_a_backtracking_pattern_runs_in_linear_time() -> None:
    # `(a+)+$` on "aaa…b" takes exponential time in a backtracking engine: this would never finish with `re`.
    drop = rule("r", "drop", regex=r"(a+)+$", fields=["text"])
    assert kept([drop], article(text="a" * 200_000 + "b"))
    assert not kept([drop], article(text="a" * 200_000))


def test_each_field_is_matched_on_its_own_values() -> None:
    item = article(
        "Title",
        text="Body text.",
        url="https://news.example/sport/1",
        authors=["Jane Roe"],
        categories=["Politics"],
        section="World",
        language="fr",
        entities=[
            entity("Ada Lovelace", EntityType.PERSON),
            entity("Acme Corp", EntityType.ORGANISATION),
            entity("Lyon", EntityType.PLACE, "FR"),
        ],
    )
    cases = {
        "url": ["sport"],
        "author": ["roe"],
        "categories": ["world"],  # the publisher's section counts as a category
        "language": ["fr"],
        "person": ["ada lovelace"],
        "organisation": ["acme corp"],
        "place": ["lyon"],
        "country": ["fr"],
    }
    for name, words in cases.items():
        assert not kept([rule("r", "drop", fields=[name], words=words)], item), name
        assert kept([rule("r", "drop", fields=[name], words=["nothing"])], item), name
    assert kept([rule("r", "drop", fields=["title"], words=["body"])], item), "only the fields named"
    assert not kept([rule("r", "drop", words=["body"])], item), "title and text by default"


def test_keep_rules_are_an_allow_list_and_drop_beats_keep() -> None:
    keeps = [rule("k1", "keep", words=["economy"]), rule("k2", "keep", words=["budget"])]
    assert kept(keeps, article("The economy grows"))
    assert kept(keeps, article("Budget day"))
    assert not kept(keeps, article("Football tonight"))
    assert not kept([*keeps, rule("d", "drop", words=["grows"])], article("The economy grows"))
    assert kept([rule("t", "tag", words=["x"])], article("No keep rules at all"))


def test_the_global_and_the_source_allow_lists_must_both_let_an_article_through() -> None:
    global_keep = [rule("english", "keep", fields=["language"], words=["en"])]
    own_keep = [rule("economy", "keep", words=["economy"])]
    assert kept(global_keep, article("The economy grows"), own_keep)
    assert not kept(global_keep, article("Football tonight"), own_keep)
    assert not kept(global_keep, article("The economy grows", language="de"), own_keep)


def test_tags_go_to_kept_articles_only_default_to_the_rule_name_and_are_sorted() -> None:
    rules = [
        rule("markets", "tag", words=["shares"]),
        rule("x", "tag", words=["shares"], tag="finance"),
        rule("no-ads", "drop", words=["sponsored"]),
    ]
    ruleset = RuleSet.for_source(rules, None)
    kept_items, dropped = ruleset.apply([article("Shares rise"), article("Sponsored: shares tips"), article("Calm")])
    assert dropped == 1
    assert [(a.title, a.tags) for a in kept_items] == [("Shares rise", ["finance", "markets"]), ("Calm", [])]


def test_only_rules_on_the_items_own_fields_drop_before_enrichment() -> None:
    item = article("Shares rise", language=None)
    by_title = RuleSet.for_source([rule("d", "drop", words=["shares"])], None)
    assert by_title.screen(item) is not None
    by_person = RuleSet.for_source([rule("d", "drop", fields=["person"], words=["ada"])], None)
    assert by_person.screen(item) is None
    # An allow-list that needs entities cannot be decided before them: nothing is dropped early.
    mixed = RuleSet.for_source(
        [rule("k1", "keep", words=["economy"]), rule("k2", "keep", fields=["place"], words=["lyon"])], None
    )
    assert mixed.screen(item) is None
    assert not mixed.judge(item).kept
    assert mixed.judge(item.model_copy(update={"entities": [entity("Lyon", EntityType.PLACE, "FR")]})).kept
    items_only = RuleSet.for_source([rule("k", "keep", words=["economy"])], None)
    assert items_only.screen(item) is not None


def test_try_rules_counts_each_rules_matches_and_the_outcome() -> None:
    source = Source(id="src", kind="feed", url="https://example.org/rss", rules=[rule("own", "tag", words=["rise"])])
    items = [article("Shares rise"), article("Sponsored shares"), article("Calm day")]
    other = article("Sponsored elsewhere").model_copy(update={"source": "other"})
    trials, outcome = try_rules([rule("no-ads", "drop", words=["sponsored"])], [source], [*items, other])
    found = {(t.scope, t.rule.name): (t.matched, t.titles) for t in trials}
    assert found == {
        ("global", "no-ads"): (2, ["Sponsored shares", "Sponsored elsewhere"]),
        ("src", "own"): (1, ["Shares rise"]),
    }
    assert outcome == {"articles": 4, "kept": 2, "dropped": 2, "tagged": 1}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


SOURCE = '[[sources]]\nid = "wire"\nkind = "feed"\nurl = "https://example.org/rss"\n'


def test_rules_load_globally_and_per_source(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rules]]\nname = "no-ads"\naction = "drop"\nwords = ["sponsored"]\n\n'
        + SOURCE
        + '[[sources.rules]]\nname = "sport"\naction = "tag"\nfields = ["categories"]\nregex = "(?i)sport"\n\n'
        '[[watchlists]]\nname = "read by another loader"\nwords = ["x"]\n',
    )
    registry = load_registry(path)
    assert [r.name for r in registry.rules] == ["no-ads"]
    assert [r.name for r in registry.get("wire").rules] == ["sport"]
    assert [m.rule.name for m in registry.rules_for("wire").matchers] == ["no-ads", "sport"]


def test_a_bad_rule_names_the_file_the_rule_and_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rules]]\nname = "look-behind"\naction = "drop"\nregex = "(?<=a)b"\n'
        '[[rules]]\nname = "typo"\naction = "drop"\nwords = ["x"]\nfeilds = ["title"]\n'
        '[[rules]]\nname = "body"\naction = "drop"\nwords = ["x"]\nfields = ["body"]\n'
        '[[rules]]\nname = "both"\naction = "keep"\nwords = ["x"]\nregex = "x"\n'
        + SOURCE
        + 'rules = [{ name = "open", action = "drop", regex = "(unclosed" }]\n',
    )
    with pytest.raises(RegistryError) as exc:
        load_registry(path)
    message = str(exc.value)
    assert f"{path}: rule #1 ('look-behind'): regex: not a valid RE2 regex" in message
    assert f"{path}: rule #2 ('typo'): feilds: Extra inputs are not permitted" in message
    assert f"{path}: rule #3 ('body'): fields.0: Input should be" in message
    assert f"{path}: rule #4 ('both'): (entry): Value error, a rule needs exactly one of" in message
    assert f"{path}: source #1 ('wire'): rule #1 ('open'): regex: not a valid RE2 regex" in message


def test_rule_names_are_unique_within_their_list(tmp_path: Path) -> None:
    entry = '[[rules]]\nname = "same"\naction = "drop"\nwords = ["x"]\n'
    with pytest.raises(RegistryError, match=r"rule #2 \('same'\): name: duplicate name"):
        load_registry(write(tmp_path, entry * 2))


def test_the_digest_shows_the_tags_of_a_storys_articles() -> None:
    from pipeline.digest import build_digest, render_html, render_markdown

    first = make_article(1, title="Shares rise", story="s").model_copy(update={"tags": ["markets"]})
    second = make_article(2, title="Shares rise again", story="s", source="other").model_copy(
        update={"tags": ["finance", "markets"]}
    )
    digest = build_digest(first.published_date, [first, second])
    [story] = digest.stories
    assert story.tags == ["finance", "markets"]
    assert "**Tags:** finance, markets" in render_markdown(digest)
    assert "<dt>Tags</dt><dd>finance, markets</dd>" in render_html(digest)
