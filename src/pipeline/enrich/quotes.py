"""Direct quotes and attributed statements, with the speaker resolved to an entity of the article.

Patterns cover the forms news uses in English, German, French, Spanish, Russian and Ukrainian:
“…,” Kamikawa said. / "…" - Dmytro Kuleba said at a press conference. / Kuleba said: «…» /
„…“, sagte Scholz. / « … », a déclaré Macron. / «…», — заявив Кулеба. / X said that … / a paragraph
that ends "… - Kamikawa said."
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

from pipeline.enrich.gazetteer import inflects
from pipeline.models import Entity, EntityType, Quote

__all__ = ["SPEECH_AFTER", "SPEECH_BEFORE", "extract_quotes"]

_VERB = (
    r"said|says|say|told|tells|added|adds|stated|states|noted|notes|declared|announced|warned|explained|wrote|"
    r"insisted|argued|claimed|stressed|emphasi[sz]ed|confirmed|replied|according to|commented|asserted|"
    r"continued|remarked|responded|answered|admitted|acknowledged|suggested|urged|recalled|observed|concluded|"
    r"cautioned|predicted|promised|vowed|pledged|tweeted|posted|asked|described|"
    r"sagte|sagt|erklärte|erklärt|betonte|betont|fügte|meinte|(?-i:so)|"
    r"a déclaré|a dit|a affirmé|a expliqué|a ajouté|a souligné|déclare|affirme|explique|selon|"
    r"dijo|afirmó|declaró|explicó|señaló|según|aseguró|añadió|indicó|"
    r"a indiqué|a estimé|a assuré|a répondu|a averti|"
    r"сказал|сказала|сказав|заявил|заявила|заявив|отметил|отметила|зазначив|зазначила|наголосив|наголосила|"
    r"подчеркнул|подчеркнула|сообщил|сообщила|повідомив|повідомила|добавил|добавила|додав|додала|сказали|заявили"
)
# A speech verb right before a name ("a déclaré Fabien Villedieu") or right after it ("Villedieu said").
SPEECH_BEFORE = re.compile(rf"\b(?:{_VERB})\s+$", re.IGNORECASE)
SPEECH_AFTER = re.compile(rf",?\s+(?:{_VERB})\b", re.IGNORECASE)
_OPEN, _CLOSE = '“"«„', '”"»“'
_QUOTED = rf"[{_OPEN}]\s?(?P<quote>[^{_OPEN}{_CLOSE}]{{8,}}?)\s?[{_CLOSE}]"
_DASH = r"[-–—]"  # noqa: RUF001
# An abbreviation's full stop ends no sentence: "Sen. Jane Doe said", "the U.S. envoy said", and an initial before a
# name, "ISRO chairman S. Somanath said". The patterns read the paragraph with those stops masked (same length,
# so offsets hold), which keeps their character classes plain: alternatives per character cost twice the time.
_ABBREVIATION = re.compile(
    r"\b(?i:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Capt|Prof|Jr|Sr|St|U\.S|U\.K|U\.N)\.|\b[A-Z]\.(?=\s[A-Z])"
)
_MASKED_STOP = "\u2024"  # one dot leader
_IN_ATTRIBUTION = rf"[^.!?{_OPEN}{_CLOSE}]"
_ATTRIBUTION = rf"(?P<attr>{_IN_ATTRIBUTION}{{0,80}}?\b(?:{_VERB})\b[^.!?{_OPEN}]{{0,80}})"
# A paragraph of quoted words closed by a dash and the speaker: "… - Kamikawa said."
_DASHED = re.compile(rf"^(?P<quote>[^{_OPEN}{_CLOSE}]{{8,}}?[.!?…])\s+{_DASH}\s+{_ATTRIBUTION}\.?$", re.IGNORECASE)
_PATTERNS = [
    # “…,” Kamikawa said.   «…», — заявив Кулеба.   « … », a déclaré Macron.
    re.compile(rf"{_QUOTED}[,.]?\s*(?:{_DASH}\s*)?{_ATTRIBUTION}[.!?]", re.IGNORECASE),
    # The first half of a split quote, which ends in a comma: “…,” the senator said, “…”
    re.compile(
        rf"[{_OPEN}]\s?(?P<quote>[^{_OPEN}{_CLOSE}]{{8,}}?),\s?[{_CLOSE}]\s*{_ATTRIBUTION},(?=\s*[{_OPEN}])",
        re.IGNORECASE,
    ),
    # Kuleba said: “…”   Kuleba told reporters, "…"
    re.compile(
        rf"(?P<attr>(?:^|(?<=[.!?]\s)|(?<=[.!?,][{_CLOSE}]\s)){_IN_ATTRIBUTION}{{0,100}}?\b(?:{_VERB})\b[^.!?{_OPEN}]{{0,60}}?)[:,]?\s*{_QUOTED}",
        re.IGNORECASE,
    ),
    _DASHED,
    # A paragraph that is only a quotation, with no one named: kept, with no speaker guessed.
    re.compile(rf"^(?P<attr>){_QUOTED}$"),
]
# What follows "said" that is a circumstance, not the start of what was said.
_NOT_A_CLAUSE = (
    r"(?:on|in|at|after|during|before|last|earlier|yesterday|today|tonight|late|this|when|while|through|by|for|to|"
    r"with|from|as|of|and|but|or|so|then|also|again|repeatedly|publicly|privately|recently)"
)
# "X said (that) …": only when X resolves to a person or organisation of the article.
_INDIRECT = re.compile(
    rf"(?P<attr>(?:^|(?<=[.!?]\s)){_IN_ATTRIBUTION}{{0,120}}?\b(?:said|says|told \w+|added|stated|warned|"
    rf"announced|claimed|argued|insisted|(?:warning|saying|adding|noting|arguing|insisting|claiming) that|"
    rf"sagte|erklärte|a déclaré|a affirmé|dijo|заявил|заявив|заявила|"
    rf"сказал|сказала|сказав|отметил|отметила|добавил|добавила|додав|додала|зазначив|зазначила)\b)"
    rf",? (?:(?:that|dass|que|что|що) )?(?!{_NOT_A_CLAUSE}\b)(?P<quote>\w[^.!?{_OPEN}]{{12,}}[.!?])",
    re.IGNORECASE,
)
# "По словам Терентьевой, …", "According to the minister, …": the source first, then what it said.
_ACCORDING = re.compile(
    rf"(?:^|(?<=[.!?]\s))(?P<attr>(?:по словам|за словами|according to|selon|según)\s[^,.!?{_OPEN}{_CLOSE}]{{2,60}}),\s"
    rf"(?P<quote>\w[^.!?{_OPEN}]{{12,}}[.!?])",
    re.IGNORECASE,
)
_SEARCHES = [(p, True) for p in _PATTERNS] + [(_INDIRECT, False), (_ACCORDING, False)]
_PRONOUNS = re.compile(
    r"\b(?:he|she|they|the \w+ (?:minister|diplomat|president|spokesman|spokeswoman|spokesperson|official|chancellor|"
    r"leader|chief|secretary|ambassador|envoy)|the (?:minister|diplomat|president|spokesman|spokeswoman|spokesperson|"
    r"official|chancellor|leader|chief|secretary|ambassador|envoy|prime minister)|"
    r"er|sie|il|elle|él|ella|он|она|він|вона)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ][\w'’-]+(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ][\w'’-]+)*")  # noqa: RUF001
_NOT_NAMES = {
    *("The", "He", "She", "They", "It", "A", "An", "Er", "Sie", "Le", "La", "Il", "Elle", "El", "Он", "Она"),
    *("Mr", "Mrs", "Ms", "Dr", "Sen", "Rep", "Gov", "Gen", "Prof", "Mr.", "Mrs.", "Ms.", "Dr.", "Sen.", "Rep."),
}


def extract_quotes(text: str, entities: list[Entity]) -> list[Quote]:
    """Quotes found paragraph by paragraph, each with the speaker as an entity name when one can be resolved."""
    quotes: list[Quote] = []
    taken: list[tuple[int, int]] = []
    for offset, paragraph in _paragraphs(text):
        paragraph = _ABBREVIATION.sub(lambda m: m.group().replace(".", _MASKED_STOP), paragraph)
        quoted = any(mark in paragraph for mark in _OPEN)  # most paragraphs quote no one: their patterns can't match
        for pattern, direct in _SEARCHES:
            if direct and not quoted and pattern is not _DASHED:
                continue
            for match in pattern.finditer(paragraph):
                start, end = offset + match.start("quote"), offset + match.end("quote")
                if any(s < end and start < e for s, e in taken):
                    continue
                attr_start = offset + match.start("attr")
                speaker = _speaker(text, attr_start, offset + match.end("attr"), start, entities, direct)
                if speaker is None and not direct:
                    continue  # "… said on Monday it was …" without a known speaker is not a statement worth keeping
                quote = text[start:end].strip().rstrip(",")
                quotes.append(Quote(text=quote, speaker=speaker, direct=direct, start=start, end=start + len(quote)))
                taken.append((start, end))
    return sorted(quotes, key=lambda q: q.start)


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for block in text.split("\n\n"):
        yield offset, block
        offset += len(block) + 2


def _speaker(
    text: str, attr_start: int, attr_end: int, quote_start: int, entities: list[Entity], direct: bool
) -> str | None:
    """The person (else organisation) named in the attribution; for a pronoun or a role ("the minister"), the
    last person named before the quote; else a capitalised name in the attribution that is not a place."""
    attribution = text[attr_start:attr_end]
    verb = _VERB_WORD.search(attribution)
    at = attr_start + (verb.start() if verb else 0)
    # Before the quote, the speaker is the subject: named before the verb ("He described Montalvo as ...: “…”").
    end = at if attr_end <= quote_start and verb else attr_end
    for kind in (EntityType.PERSON, EntityType.ORGANISATION):
        # The name nearest the speech verb, not the article's most mentioned one.
        named = [
            (abs(m.start - at), entity.name)
            for entity in entities
            if entity.type is kind
            for m in entity.mentions
            if attr_start <= m.start < end
        ]
        if named:
            return min(named)[1]
        if kind is EntityType.PERSON and (inflected := _inflected_person(text, attr_start, end, entities)):
            return inflected
    pronoun = _PRONOUNS.search(text, attr_start, end)
    if pronoun:
        gender = _PRONOUN_GENDER.get(pronoun.group().casefold())
        return _last_person_before(text, min(attr_start, quote_start), entities, gender)
    if not direct:
        return None
    places = {m.text for e in entities if e.type is EntityType.PLACE for m in e.mentions}
    for match in _NAME.finditer(attribution):
        words = [w for w in match.group().split() if w not in _NOT_NAMES and not _VERB_WORD.fullmatch(w)]
        name = " ".join(words[-2:])  # "Gewerkschaftschef Claus Weselsky": a title, then the name
        if words and name not in places:
            return _known_person(name, entities) or name
    return None


_VERB_WORD = re.compile(rf"\b(?:{_VERB})\b", re.IGNORECASE)


def _inflected_person(text: str, start: int, end: int, entities: list[Entity]) -> str | None:
    """The person whose surname a word in start:end is, in another grammatical case: "за словами Ковальчука"
    names Олег Ковальчук (the gazetteer's reading of case endings)."""
    surnames = {e.name.split()[-1]: e.name for e in entities if e.type is EntityType.PERSON and " " in e.name}
    for word in _CAPITALISED_WORD.findall(text, start, end):
        for surname, name in surnames.items():
            if word != surname and inflects(surname, word):
                return name
    return None


_CAPITALISED_WORD = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁЇІЄҐ][\w'’-]+")  # noqa: RUF001


def _known_person(name: str, entities: list[Entity]) -> str | None:
    for entity in entities:
        if entity.type is EntityType.PERSON and (name == entity.name or name in entity.name.split()):
            return entity.name
    return None


def _last_person_before(text: str, position: int, entities: list[Entity], gender: str | None) -> str | None:
    """Whom a pronoun at `position` refers to: when it opens a sentence, the first person of the sentence before
    (its subject); else the person named last before it. Only persons whose gender, where the text shows it,
    matches the pronoun's."""
    genders = _genders(text, entities) if gender else {}
    people = sorted(
        (m.start, e.name)
        for e in entities
        if e.type is EntityType.PERSON and genders.get(e.name, gender) == gender
        for m in e.mentions
        if m.start < position
    )
    if not people:
        return None
    before = text[max(0, position - 3) : position].rstrip()
    if not before or before[-1] in '.!?”"»\n':
        opening = _last_sentence_end(text, max(0, position - 1))
        previous = [name for at, name in people if at >= _sentence_start(text, opening)]
        if previous:
            return previous[0]
    return people[-1][1]


def _sentence_start(text: str, end: int) -> int:
    """Where the sentence that ends at `end` starts."""
    return _last_sentence_end(text, max(0, end - 2))


def _last_sentence_end(text: str, limit: int) -> int:
    """Where the last sentence ending before `limit` ends, its following spaces counted up to `limit`; 0 if none."""
    breaks = _sentence_breaks(text)
    k = bisect_left(breaks, (limit,)) - 1
    return min(breaks[k][1], limit) if k >= 0 else 0


@lru_cache(maxsize=4)
def _sentence_breaks(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of the spaces after each sentence of `text`: read once per article, not once per quote."""
    return tuple((m.start() + (text[m.start()] in _CLOSING), m.end()) for m in _SENTENCE.finditer(text))


def _genders(text: str, entities: list[Entity]) -> dict[str, str]:
    """What the text shows of each person's gender: a title before a name ("Mrs", "Herr"), else the pronouns that
    refer to them: a sentence opened by "She" speaks of the first person of the sentence before; "his" or "her"
    after the only person of a sentence is theirs. Persons the text says nothing of are left out."""
    mentions = sorted((m.start, e.name) for e in entities if e.type is EntityType.PERSON for m in e.mentions)
    votes: dict[str, Counter[str]] = {}
    previous: list[str] = []
    start = 0
    starts = [at for at, _ in mentions]
    for end in [*(end for _, end in _sentence_breaks(text)), len(text)]:
        named = mentions[bisect_left(starts, start) : bisect_left(starts, end)]
        opening = _SUBJECT.match(text, start)
        if opening and previous:
            votes.setdefault(previous[0], Counter())[_PRONOUN_GENDER[opening.group(1).casefold()]] += 1
        if len({name for _, name in named}) == 1:
            after = _GENDERED.search(text, named[0][0], end)
            if after:
                votes.setdefault(named[0][1], Counter())[_PRONOUN_GENDER[after.group().casefold()]] += 1
        previous, start = [name for _, name in named], end
    genders = {name: counts.most_common(1)[0][0] for name, counts in votes.items()}
    for at, name in mentions:
        title = _TITLE.search(text, max(0, at - 8), at)
        if title:
            genders[name] = _TITLE_GENDER[title.group(1).casefold().rstrip(".")]
    return genders


_SENTENCE = re.compile(r"(?<=[.!?])[\"”»]?\s+")
_CLOSING = '"”»'
_SUBJECT = re.compile(r"[\"“«„]?(He|She|Il|Elle|Он|Она|Він|Вона)\b")


_PRONOUN_GENDER = {
    **dict.fromkeys(("she", "her", "hers", "sie", "elle", "ella", "она", "вона"), "f"),
    **dict.fromkeys(("he", "his", "him", "er", "il", "él", "он", "він"), "m"),
}
# German "sie" and "er"-less French "elle" aside, these pronouns tell a person's gender in the words after a name.
_GENDERED = re.compile(r"\b(?:he|his|him|she|her|hers|il|elle|он|она|він|вона)\b", re.IGNORECASE)
_TITLE_GENDER = {
    **dict.fromkeys(("mrs", "ms", "miss", "madam", "lady", "dame", "frau", "mme", "madame", "sra", "señora"), "f"),
    **dict.fromkeys(("mr", "sir", "lord", "herr", "m", "monsieur", "sr", "señor"), "m"),
}
_TITLE = re.compile(r"\b(" + "|".join(sorted(_TITLE_GENDER, key=len, reverse=True)) + r")\.?\s+$", re.IGNORECASE)
