"""Russian names in the nominative, as entities are named: "Алексеем Миллером" -> "Алексей Миллер",
"Центрального банка" -> "Центральный банк" (pymorphy3's dictionary; the words keep their capitals)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer

__all__ = ["nominative_forms", "nominative_name", "nominative_organisation"]

_NAME_TAGS = ("Name", "Surn", "Patr")


@cache
def _morph() -> MorphAnalyzer:
    from pymorphy3 import MorphAnalyzer

    return MorphAnalyzer(lang="ru")


def nominative_name(name: str) -> str:
    """A person's name in the nominative: each word in the case and gender of the given name ("Марина
    Соколова" stays feminine, "Павлом Гущиным" -> "Павел Гущин")."""
    words = name.split()
    parses = [_morph().parse(w) for w in words]
    given = next((p for ps in parses for p in ps if "Name" in p.tag), None)
    out = []
    for word, options in zip(words, parses, strict=True):
        names = [p for p in options if any(t in p.tag for t in _NAME_TAGS)]
        if given is not None:  # the surname's reading that agrees with the given name, or the word as written
            names = [p for p in names if p.tag.case == given.tag.case and p.tag.gender == given.tag.gender]
        chosen = names[0] if names else None
        out.append(_inflected(word, chosen, {"nomn"}) if chosen is not None and chosen.tag.case != "nomn" else word)
    return " ".join(out)


def nominative_organisation(name: str) -> str:
    """An organisation's name with its head noun and the adjectives before it in the nominative; what follows the
    head is governed by it and stays ("Министерства аграрной политики" -> "Министерство аграрной политики")."""
    words = name.split()
    parses = [_morph().parse(w)[0] for w in words]
    head = next((i for i, p in enumerate(parses) if p.tag.POS == "NOUN"), None)
    if head is None or parses[head].tag.case in (None, "nomn"):
        return name
    number, gender = parses[head].tag.number or "sing", parses[head].tag.gender
    out = list(words)
    out[head] = _inflected(words[head], parses[head], {"nomn", number})
    for i in range(head):
        if parses[i].tag.POS in ("ADJF", "PRTF"):
            grammemes = {"nomn", number} | ({gender} if gender and number == "sing" else set())
            out[i] = _inflected(words[i], parses[i], grammemes)
    return " ".join(out)


def nominative_forms(word: str) -> set[str]:
    """Every nominative a one-word name may stand for ("Соколовой" -> {"Соколова"}), for matching a surname."""
    forms = {word}
    for parse in _morph().parse(word):
        if any(t in parse.tag for t in _NAME_TAGS):
            forms.add(_inflected(word, parse, {"nomn"}))
    return forms


def _inflected(word: str, parse: Any, grammemes: set[str]) -> str:
    form = parse.inflect(grammemes)
    if form is None:
        return word
    return _recased(word, form.word)


def _recased(original: str, word: str) -> str:
    if original.isupper():
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
