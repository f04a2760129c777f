"""People, organisations and places: spaCy NER over the whole text where a model reads the language, capitalised
names where none does, and the gazetteer over all of it."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from anyascii import anyascii

from pipeline.enrich.gazetteer import Gazetteer
from pipeline.enrich.quotes import SPEECH_AFTER, SPEECH_BEFORE
from pipeline.models import Entity, EntityType, Mention

__all__ = ["CONTEXT_AFTER", "CONTEXT_BEFORE", "Span", "extract_entities", "name_key", "name_sentences"]

# OntoNotes labels (English) and WikiNER labels (French and other spaCy news models).
_TYPES = {
    "PERSON": EntityType.PERSON,
    "PER": EntityType.PERSON,
    "ORG": EntityType.ORGANISATION,
    "GPE": EntityType.PLACE,
    "LOC": EntityType.PLACE,
}
_LEADING = re.compile(r"(?:the|The)\s+")
_POSSESSIVE = re.compile(r"['’]s?$")  # noqa: RUF001
# Roles and titles written before a name: a span starting with one is trimmed to the name ("Defender Jan Vertonghen").
_ROLES = re.compile(
    r"(?:(?:[a-z][\w-]*|Mr|Mrs|Ms|Dr|Prof|Professor|Sen|Senator|Rep|Gov|Governor|Gen|General|Col|Capt|Captain|Lt|"
    r"President|Vice|Prime|Minister|Chancellor|Premier|Secretary|Ambassador|Mayor|Judge|Justice|King|Queen|Prince|"
    r"Princess|Pope|Sir|Lord|Lady|Dame|Chief|Director|Administrator|Commissioner|Chairman|Chairwoman|Chair|Leader|"
    r"Defender|Midfielder|Striker|Forward|Goalkeeper|Coach|Manager|Captain|Officer|Sergeant|Detective|Agent|Reverend|"
    r"Rev|Father|Sister|Brother|Saint|St|Former|Acting|Deputy|Foreign|Defence|Defense|Finance|Interior|Health|"
    r"Opposition|Party|State|US|U\.S\.|UK|EU|UN)\.?\s+)+"
)
# A span ends before a score, a number or a line break: "Vertonghen 2" -> "Vertonghen".
_TAIL = re.compile(r"(?:\s+[\d.,:–-]+)+$|[\s,;:–-]+$")  # noqa: RUF001
_LOWER_TAIL = re.compile(r"(?:\s+[a-zà-ÿа-яёіїєґ][\w-]*)+$")
_DEMONYM_ENDINGS = ("ian", "ean", "ese", "ish", "ic", "i")
_FIRST_WORD = re.compile(r"\w+")
_TYPE_ORDER = {EntityType.PERSON: 0, EntityType.ORGANISATION: 1, EntityType.PLACE: 2}


@dataclass(frozen=True, slots=True)
class Span:
    """A named-entity span from the model: its label and character offsets in the text."""

    label: str
    start: int
    end: int


@dataclass(slots=True)
class _Found:
    type: EntityType
    start: int
    end: int
    name: str
    country: str | None = None


def extract_entities(
    text: str, spans: Iterable[Span], places: Gazetteer, language: str | None = None, *, model: bool = True
) -> list[Entity]:
    """Merge model spans and gazetteer places into entities with canonical names, offsets and counts.

    Names the model found are then looked up across the whole text. Without a `model` for the language,
    people are runs of capitalised words that are neither places nor function words.
    """
    found = _from_model(text, spans, places, language) if model else _names(text, places, language)
    for start, end, agency in _datelines(text):  # a dateline's place, whatever the model made of its capitals
        found = [f for f in found if f.end <= start or end <= f.start]
        place = places.lookup(text[start:end], language)
        name = place.name if place else text[start:end].title()
        found.append(_Found(EntityType.PLACE, start, end, name, place.country if place else None))
        if agency and not any(f.start < agency[1] and agency[0] < f.end for f in found):
            found.append(_Found(EntityType.ORGANISATION, *agency, text[agency[0] : agency[1]]))
    found = _add_by_form(text, found)
    covered: dict[int, _Found] = {p: f for f in found for p in range(f.start, f.end)}
    removed: set[int] = set()
    for hit in places.find(text, language):
        # A place in another grammatical case is no word of a longer name: "Мер Києва" is Kyiv's mayor.  # noqa: RUF003
        if not hit.inflected and _inside_longer_name(text, hit.start, hit.end, language):
            continue  # "Real Madrid", "pro-Beijing", "Salem Ahmed": a word of another name, not the place
        overlapping = list({id(f): f for p in range(hit.start, hit.end) if (f := covered.get(p))}.values())
        overlapping = [f for f in overlapping if id(f) not in removed]
        same = all(f.start == hit.start and f.end == hit.end for f in overlapping)
        if not same and any(f.type is EntityType.ORGANISATION for f in overlapping):
            continue  # "Ministry of Foreign Affairs of Japan" is one organisation, not also a place
        if any(f.type is EntityType.PERSON for f in overlapping) and not same:
            continue  # a person's name ("Georgia Smith", "Paris said")
        if overlapping and not hit.place.major and not (same and overlapping[0].type is EntityType.PLACE):
            continue  # the model's reading of a small city's name ("Charlotte said") stands
        if overlapping and hit.inflected and not same:
            continue  # the model's longer name: "Свердловской области" is a region, not Свердловск (Yekaterinburg)
        removed |= {id(f) for f in overlapping}
        found.append(_Found(EntityType.PLACE, hit.start, hit.end, hit.place.name, hit.place.country))
    found = [f for f in found if id(f) not in removed]
    if language == "ru":
        _one_form_per_person(text, found)
    people = _canonical_people(found)
    if language == "ru":
        _inflected_surnames(found, people)
    _merge_acronyms(text, found)
    _national_teams(text, found, places, language)
    _one_kind_per_name(text, found, places, language)
    entities = _group(text, found, people, language)
    return sorted(entities, key=lambda e: (_TYPE_ORDER[e.type], -e.count, e.mentions[0].start, e.name))


def name_sentences(text: str) -> list[tuple[int, int]]:
    """The stretches of `text` (start, end) the model needs to read: in each sentence that can hold a name, the
    capitalised words with a few tokens of context either side. The small models look only a few tokens either
    side of a word, so their reading of a name is (nearly) the same as over the whole text; no stretch crosses a
    sentence, and no time goes to runs of lower-case words."""
    found: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        start = paragraph.start()
        ends = [(m.end("end"), m.end()) for m in _SENTENCE_END.finditer(text, start, paragraph.end())]
        for end, following in [*ends, (paragraph.end(), paragraph.end())]:
            words = _CAPITALISED.findall(text, start, end)
            if words and (len(words) > 1 or not text.startswith(words[0], start) or _opens_with_a_name(words[0])):
                found += _windows(text, start, end)
            start = following
    return found


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of start:end within the context tokens of a capitalised word (not a function word such as "The"
    opening a sentence), merged where they overlap."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    stop = _function_words()
    capitalised = [
        i
        for i, (a, b) in enumerate(tokens)
        if text[a].isupper() and (text[a:b].casefold() not in stop or (text[a:b].isupper() and b - a > 1))
    ]
    windows: list[tuple[int, int]] = []
    for i in capitalised:
        first, last = max(0, i - CONTEXT_BEFORE), min(len(tokens) - 1, i + CONTEXT_AFTER)
        if windows and first <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], last)
        else:
            windows.append((first, last))
    return [(tokens[a][0], tokens[b][1]) for a, b in windows]


# Tokens of context before and after a capitalised word. The small models see four tokens either side; on GUM's
# news, with the md model, 2 before and 3 after score as 3 and 3 (0.836 against 0.835 F1) on 7% fewer tokens; 2
# after loses organisations (the words after a name say what it is: "Qantas Airways said"), and the whole text
# is twice as many tokens.
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 3
_TOKEN = re.compile(r"\w+(?:['’.-]\w+)*\.?|[^\w\s]")  # noqa: RUF001


def _opens_with_a_name(word: str) -> bool:
    return word.casefold() not in _function_words()


_PARAGRAPH = re.compile(r"[^\n]+")
# A sentence ends at . ! ? (then quotes) and a space before a capital, except after an initial or a short abbreviation.
_SENTENCE_END = re.compile(
    r"(?<![\s.][A-Z])(?<!^[A-Z])(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Mt|No|Lt))(?<!\b(?:Mrs|Sen|Rep|Gov|Gen|Col))(?<!\bProf)"
    r"(?P<end>[.!?…][\"'”»)]*)\s+(?=[\"'“«(]?[^\W\d_])"
)
_CAPITALISED = re.compile(r"(?<![\w'’])[^\W\d_a-zà-öø-ÿа-яё][\w'’-]*")  # noqa: RUF001


def _inside_longer_name(text: str, start: int, end: int, language: str | None = None) -> bool:
    """True when the words at start:end are joined to a capitalised word before or after them, or by a hyphen
    (only by a hyphen in a language that capitalises every noun: "die Stadt Passau")."""
    if _hyphenated(text, start, end):
        return True
    if language in _CAPITALISED_NOUNS:
        return False
    after = _NEXT_WORD.match(text, end)
    if after and after.group(1)[0].isupper():
        return True
    before = _previous_word(text, start)
    if before is None or not before.group(1)[0].isupper():
        return False
    sentence_start = _before(text, before.start(1)).rstrip()[-1:] in '.!?\n"“«„'
    # A capitalised word opening a sentence is part of the name unless it is a function word ("In", "The").
    return not (sentence_start and before.group(1).casefold() in _function_words())


def _unlabelled_name_before(text: str, start: int, labelled: bytearray) -> bool:
    """True when a capitalised word that is no function word stands right before `start`, outside every span the
    model labelled."""
    before = _previous_word(text, start)
    if before is None or not before.group(1)[0].isupper() or before.group(1).casefold() in _function_words():
        return False
    return labelled.find(1, before.start(1), before.end(1)) == -1


_PREFIXED = re.compile(r"[a-z]+[-\u2010]")  # "pro-", "anti-"


def _hyphenated(text: str, start: int, end: int) -> bool:
    """True for a word joined to another by a hyphen: "pro-Beijing", "Madrid-based"."""
    return (start > 0 and text[start - 1] in _HYPHENS) or text[end : end + 1] in _HYPHENS


@cache
def _function_words() -> frozenset[str]:
    """Stop words of the languages spaCy ships lists for (no model needed)."""
    from importlib import import_module

    words: set[str] = set()
    for language in ("en", "de", "fr", "es", "ru", "uk", "it", "pt", "nl"):
        words |= import_module(f"spacy.lang.{language}.stop_words").STOP_WORDS
    return frozenset(words)


_HYPHENS = frozenset("-\u2010")
_LONGEST_WORD = 40
_NEXT_WORD = re.compile(r" ([^\W\d_][\w'’]*)")  # noqa: RUF001
_PREVIOUS_WORD = re.compile(r"(?<![\w.])([^\W\d_][\w'’]*) $")  # noqa: RUF001


def _previous_word(text: str, start: int) -> re.Match[str] | None:
    # Looked for in the few characters before `start`: a search from 0 would cost the whole text each time.
    return _PREVIOUS_WORD.search(text, max(0, start - _LONGEST_WORD - 1), start)


def _before(text: str, start: int) -> str:
    """The few characters before `start`, enough to see what ends there."""
    return text[max(0, start - _LONGEST_WORD) : start]


def _from_model(text: str, spans: Iterable[Span], places: Gazetteer, language: str | None) -> list[_Found]:
    found: list[_Found] = []
    joined = _joined(text, spans)
    labelled = bytearray(len(text))  # 1 where the model labelled something
    for span in joined:
        labelled[span.start : span.end] = b"\x01" * (span.end - span.start)
    for span in joined:
        kind = _TYPES.get(span.label)
        if kind is None:
            continue
        start, end = _trim(text, span.start, span.end, kind, language)
        if kind is EntityType.PERSON:
            end = _person_end(text, start, end)
        if end - start < 2 or _common_word(text, start, end):
            continue
        name = text[start:end]
        if kind is EntityType.PLACE and _hyphenated(text, start, end):
            continue  # "pro-Madrid": an adjective made of a place
        prefixed = _PREFIXED.match(name)
        if prefixed and places.lookup(name[prefixed.end() :], language):
            continue  # the same adjective inside the span, whatever its label
        if kind is EntityType.PLACE and language == "en" and _unlabelled_name_before(text, start, labelled):
            # "Real Madrid": the model left the name's first word out and read the rest as a place (English only:
            # Russian opens sentences with a role before a place, "Губернатор Свердловской области")
            continue
        if kind is EntityType.PLACE and _speaks(text, start, end, places.lookup(name, language)):
            kind = EntityType.PERSON  # "…, a déclaré Fabien Villedieu": who speaks is a person, whatever the model says
        if kind is EntityType.PERSON and _kind_before(text, start):
            kind = EntityType.ORGANISATION  # "компании Агрохолдинг Восток": the kind of organisation is written before
        if language == "ru" and kind is not EntityType.PLACE:
            name = _russian_nominative(name, kind)
        if kind is EntityType.PLACE:
            place = places.lookup(name, language)
            if place is None and language == "ru":
                place = places.lookup(_russian_place(name), language)  # "Санкт-Петербурге" -> "Санкт-Петербург"
            if place is None and " " not in name and name.endswith(_DEMONYM_ENDINGS):
                continue  # "Ukrainian cities": an adjective the model took for a place
            if place is None and language == "ru":
                name = _russian_place(name)  # "Свердловской области" -> "Свердловская область"
            found.append(_Found(kind, start, end, place.name if place else name, place.country if place else None))
        elif kind is EntityType.PERSON or any(ch.isupper() for ch in name):  # not "electoral commission"
            found.append(_Found(kind, start, end, name))
    return found


def _national_teams(text: str, found: list[_Found], places: Gazetteer, language: str | None) -> None:
    """Countries that play in the article are its teams, organisations wherever it names them: two places, one
    of them a country, on either side of a score ("Sweden 1-0 Korea Republic", "Tunisia 1-2 England") or of a
    result ("Belgium defeated Panama")."""
    named = sorted((f for f in found if f.type is EntityType.PLACE), key=lambda f: f.start)
    countries = {f.name for f in named if (p := places.lookup(f.name, language)) and p.is_country}
    teams = {
        name
        for first, second in itertools.pairwise(named)
        if (first.name in countries or second.name in countries) and _RESULT.fullmatch(text, first.end, second.start)
        for name in (first.name, second.name)
    }
    for item in found:
        if item.type is EntityType.PLACE and item.name in teams:
            item.type = EntityType.ORGANISATION


def _one_kind_per_name(text: str, found: list[_Found], places: Gazetteer, language: str | None) -> None:
    """A name the gazetteer does not know as a place is an organisation wherever the model calls it a place when
    it is one somewhere else: the model reads it so, or the text names its kind right after it ("the X group").
    The model guesses a place from a name's words ("Sea", "Bay"); the gazetteer would know a real one."""
    organisations = {f.name for f in found if f.type is EntityType.ORGANISATION}
    surfaces = {text[f.start : f.end]: f.name for f in found if f.type is EntityType.PLACE}
    organisations |= {name for surface, name in surfaces.items() if _kind_after(text, surface)}
    for item in found:
        if item.type is EntityType.PLACE and item.name in organisations and places.lookup(item.name, language) is None:
            item.type = EntityType.ORGANISATION


def _kind_after(text: str, surface: str) -> bool:
    """True when the text writes `surface` before a word that says it is an organisation, anywhere."""
    at = text.find(surface)
    while at != -1:
        if (at == 0 or not text[at - 1].isalnum()) and _KIND_AFTER.match(text, at + len(surface)):
            return True
        at = text.find(surface, at + 1)
    return False


# Lower-case words after a name that say it is an organisation (not "police" or "council": a place has those).
_KIND_AFTER = re.compile(r" (?:group|organi[sz]ation|movement|church|sect|company|firm|party)\b")


# Between two teams: a score, or a result verb with a score or a word between ("defeated debutants").
_SCORE = r"\d{1,2}\s?[–-]\s?\d{1,2}"  # noqa: RUF001
_RESULT = re.compile(
    rf"(?:['’]s)?\s+(?:{_SCORE}|(?:defeated|beat|beats|defeats|drew with|draws with|edged|thrashed|routed|"  # noqa: RUF001
    rf"overcame|lost to|lose to|lost {_SCORE} to|loses {_SCORE} to|v|vs\.?|versus)(?:\s+\w+)?(?:\s+{_SCORE})?)\s+"
)


def _russian_nominative(name: str, kind: EntityType) -> str:
    """A Russian name as entities are named, in the nominative; a lone word stays as written (its case and gender
    are read against the full names in `_canonical_people`)."""
    from pipeline.enrich.russian import nominative_name, nominative_organisation

    if kind is EntityType.PERSON:
        return nominative_name(name) if " " in name else name
    return nominative_organisation(name)


def _russian_place(name: str) -> str:
    from pipeline.enrich.russian import nominative_organisation

    return nominative_organisation(name)


def _kind_before(text: str, start: int) -> bool:
    """True when a lower-case kind of organisation stands right before `start` ("компании X"), not the last word of
    another name ("Центрального банка Елена Воронцова")."""
    match = _KIND_BEFORE.search(text, max(0, start - 20), start)
    if match is None:
        return False
    before = _previous_word(text, match.start())
    named = before is not None and before.group(1)[0].isupper() and not _sentence_start(text, before.start(1))
    return not text[match.start()].isupper() and not named


def _names(text: str, places: Gazetteer, language: str | None) -> list[_Found]:
    """People's names where no model reads the language: two or three capitalised words in a row, none a place
    or a function word ("Віталій Кличко", "Pedro Sánchez"); in German, which capitalises every noun, two words the
    text never writes as nouns; in Japanese, katakana names with their middle dot ("ウォロディミル・ゼレンスキー")."""
    if language in _CAPITALISED_NOUNS:
        return _noun_language_names(text, places, language)
    if language == "ja":
        return [_Found(EntityType.PERSON, m.start(), m.end(), m.group()) for m in _KATAKANA_NAME.finditer(text)]
    stop = _function_words()

    def not_a_name(word: str) -> bool:
        return (
            word.casefold() in stop
            or word.isupper()
            or bool(places.lookup(word, language) or places.lookup_inflected(word))
        )

    found: list[_Found] = []
    for run in _NAME_RUN.finditer(text):
        if _OF_NAME.match(text, run.end()):
            continue  # "Instituto Nacional de Estadística": the start of an institution's name
        words = [(m.start(), m.group()) for m in _WORD_IN_RUN.finditer(run.group())]
        while words and not_a_name(words[0][1]):
            words = words[1:]  # "НАТО Олег Ковальчук", "Києва Наталія Савчук": a place, then the name  # noqa: RUF003
        if _role_or_place_first(text, run.start(), words):
            words = words[1:]
        if not 1 < len(words) <= _LONGEST_NAME or any(not_a_name(w) for _, w in words):
            continue
        start = run.start() + words[0][0]
        kind = EntityType.ORGANISATION if _KIND_BEFORE.search(text, max(0, start - 20), start) else EntityType.PERSON
        found.append(_Found(kind, start, run.end(), text[start : run.end()]))  # "компании Агрохолдинг Восток"
    return found


_WORD_IN_RUN = re.compile(r"\S+")


def _role_or_place_first(text: str, start: int, words: list[tuple[int, str]]) -> bool:
    """True for three Cyrillic words that are no name with its patronymic ("Олег Петрович Ковальчук"): a role or
    a place, then a name ("Аграрій Петро Мельничук", "з Полтави Наталія Савчук"), unless a kind of organisation
    stands before them."""
    return (
        len(words) == _LONGEST_NAME
        and _CYRILLIC_NAME.match(words[1][1]) is not None
        and not _PATRONYMIC.search(words[1][1])
        and not _KIND_BEFORE.search(text, max(0, start - 20), start)
    )


_CYRILLIC_NAME = re.compile(r"[А-ЯЁІЇЄҐ]")  # noqa: RUF001
_PATRONYMIC = re.compile(r"(?:ович|евич|йович|ївна|івна|овна|евна|ична)\w{0,3}$")


# A kind of organisation written before its name, in the languages without a model: "компании X", "la empresa X".
_KIND_BEFORE = re.compile(
    r"\b(?:компани[яиюей]|компані[яїю]|банк[аеу]?|холдинг[ау]?|концерн[ау]?|корпораци[яию]|корпораці[яїю]|"  # noqa: RUF001
    r"парти[яию]|партії|фонд[ау]?|empresa|compañía|grupo|banco|partido|sociedad|société|entreprise)\s+$",  # noqa: RUF001
    re.IGNORECASE,
)


def _noun_language_names(text: str, places: Gazetteer, language: str | None) -> list[_Found]:
    """People where every noun is capitalised: the last two words of a capitalised run ("Gewerkschaftschef Claus
    Weselsky") that the text never writes after an article or determiner, as it writes its nouns ("die Bahn",
    "am Montag"), neither shaped like a noun ("-ung", "-schaft") nor a place nor a function word."""
    nouns = {m.group(1) for m in _AFTER_ARTICLE.finditer(text)}
    stop = _function_words()
    found: list[_Found] = []
    for run in _NAME_RUN.finditer(text):
        words = run.group().split()
        name = words[-2:]
        if any(
            w in nouns or w.casefold() in stop or w.isupper() or w.casefold().endswith(_NOUN_ENDINGS) for w in name
        ) or any(places.lookup(w, language) for w in name):
            continue
        start = run.end() - len(" ".join(name))
        if start == run.start() and _sentence_start(text, start):
            continue  # "Neue Regeln gelten": a sentence's opening noun
        found.append(_Found(EntityType.PERSON, start, run.end(), " ".join(name)))
    return found


def _sentence_start(text: str, start: int) -> bool:
    return _before(text, start).rstrip()[-1:] in '.!?\n:"“„«'


_AFTER_ARTICLE = re.compile(
    r"\b(?i:der|die|das|den|dem|des|ein|eine|einen|einem|einer|eines|kein|keine|keinen|im|am|vom|zum|zur|beim|ins|"
    r"dieser|diese|dieses|diesem|diesen|jeder|jede|jedes|seine|seinen|seiner|ihre|ihren|ihrer|unser|unsere)"
    r"\s+(?:[a-zäöüß]\w*\s+){0,2}([A-ZÄÖÜ][\w-]*)"
)
_NOUN_ENDINGS = (
    "ung", "heit", "keit", "schaft", "tion", "tät", "ismus", "nis", "chen", "lein", "ment", "enz", "anz", "ium",
    "chef", "leiter", "sprecher", "minister", "präsident", "kanzler",
)  # fmt: skip
_KATAKANA_NAME = re.compile(r"[ァ-ヺー]{2,}(?:・[ァ-ヺー]{2,})+")
_CAPITALISED_NOUNS = {"de", "lb"}
_OF_NAME = re.compile(r" (?:de|del|des|du|di|da|do|of|for|für|dla) [^\W\d_]", re.IGNORECASE)
_LONGEST_NAME = 3  # words
_NAME_WORD = r"[^\W\d_a-zà-ÿа-яёіїєґ][^\W\d_]+(?:[-'’][^\W\d_]+)*"  # noqa: RUF001
_NAME_RUN = re.compile(rf"(?<![\w'’-]){_NAME_WORD}(?: {_NAME_WORD})+(?![\w'’-])")  # noqa: RUF001


def _joined(text: str, spans: Iterable[Span]) -> list[Span]:
    """Join a one-word person to the one-word name the model split off, one space away ("Salem" "Haddad")."""
    joined: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        last = joined[-1] if joined else None
        if (
            last is not None
            and "PERSON" in (last.label, span.label)
            and {last.label, span.label} <= _NAME_LABELS
            and text[last.end : span.start] == " "
            and " " not in text[last.start : last.end] + text[span.start : span.end]  # one word each
            and text[last.start].isupper()
            and not text[last.start : last.end].isupper()
        ):
            joined[-1] = Span("PERSON", last.start, span.end)
        else:
            joined.append(span)
    return joined


_NAME_LABELS = {"PERSON", "GPE", "LOC", "ORG", "NORP"}


def _common_word(text: str, start: int, end: int) -> bool:
    """True for one capitalised word opening a sentence that the text also writes in lower case ("Schools will")."""
    word = text[start:end]
    if " " in word or not word[:1].isupper() or word.isupper():
        return False
    opening = text[max(0, start - 3) : start].rstrip()
    if start and opening[-1:] not in (".", "!", "?", "\n", "") and text[start - 1] != "\n":
        return False
    return re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", text) is not None


def _speaks(text: str, start: int, end: int, place: object) -> bool:
    """True when a name the gazetteer does not know stands next to a speech verb, as who speaks."""
    if place is not None or " " not in text[start:end]:
        return False
    return bool(SPEECH_BEFORE.search(text, max(0, start - 30), start) or SPEECH_AFTER.match(text, end))


def _trim(text: str, start: int, end: int, kind: EntityType, language: str | None = None) -> tuple[int, int]:
    """Drop a leading article, a person's role words, a trailing possessive or number, an English organisation's or
    place's trailing lower-case words, and whatever follows a line break, a colon or a bracket: "the United
    States'" -> "United States", "Defender Jan Vertonghen 2" -> "Jan Vertonghen", "Yonhap news agency" -> "Yonhap"."""
    for stop in ("\n", ": ", " ("):
        cut = text.find(stop, start, end)
        if cut != -1:
            end = cut
    lead = (_ROLES if kind is EntityType.PERSON else _LEADING).match(text, start, end)
    if lead and lead.end() < end:
        start = lead.end()
    tail = _POSSESSIVE.search(text, start, end)
    if tail and tail.start() > start:
        end = tail.start()
    if kind is not EntityType.PERSON and language == "en":  # French names end in adjectives: "Parti socialiste"
        lower = _LOWER_TAIL.search(text, start, end)  # "Yonhap news agency" -> "Yonhap", not "Republican party"
        if (
            lower
            and lower.start() > start
            and (len(lower.group().split()) > 1 or _head_word(lower.group().strip()) not in _ORGANISATION_HEADS)
        ):
            end = lower.start()
    tail = _TAIL.search(text, start, end)
    if tail and tail.start() > start:
        end = tail.start()
    return start, end


def _person_end(text: str, start: int, end: int) -> int:
    """Where a person's name ends: through a hyphenated given name the model cut ("Wong Kwok" of "Wong Kwok-hing"),
    and before a caption's label that also opens a sentence ("Ahmed Mohamed Image: Twitter. ... Image: Jane Doe")."""
    rest = _HYPHENATED_REST.match(text, end)
    if rest:
        return rest.end()
    words = text[start:end].split()
    if len(words) > 1 and text.startswith(":", end) and re.search(rf"(?:^|[.!?]\s|\n){words[-1]}:", text, re.M):
        return start + len(text[start:end].rsplit(" ", 1)[0])  # the label also opens a sentence: not a name
    return end


_HYPHENATED_REST = re.compile(r"-[a-zà-ÿ]+\b(?!-)")


def _canonical_people(found: list[_Found]) -> dict[str, str]:
    """Map a full name's surname to it when only one full name ends so ("Kamikawa" -> "Yoko Kamikawa").

    Only surnames, capitalised words of two letters or more: first names are shared, digits and initials are not
    names, and a word inside another name ("Warhol" in "Warhol Foundation") says nothing of whom it names.
    """
    full = {f.name for f in found if f.type is EntityType.PERSON and _is_full_name(f.name)}
    owners: dict[str, set[str]] = {}
    for name in full:
        owners.setdefault(_NAME_WORDS.split(name)[-1], set()).add(name)
    return {word: next(iter(names)) for word, names in owners.items() if len(names) == 1} | {n: n for n in full}


def _one_form_per_person(text: str, found: list[_Found]) -> None:
    """One name for the forms of a Russian full name that the dictionary cannot tell apart ("Игорь Ланской",
    "Игорем Ланским" -> "Игорь Ланский"): the same stems, named as the text writes it, else as most often."""
    forms: dict[tuple[str, ...], list[_Found]] = {}
    for item in found:
        if item.type is EntityType.PERSON and " " in item.name:
            key = tuple(w[: max(3, len(w) - 2)].casefold() for w in item.name.split())
            forms.setdefault(key, []).append(item)
    for items in forms.values():
        names = [i.name for i in items]
        written = [n for n in names if text.count(n)]
        chosen = written[0] if written else max(names, key=names.count)
        for item in items:
            item.name = chosen


def _inflected_surnames(found: list[_Found], people: dict[str, str]) -> None:
    """Map a lone Russian surname in another case ("Соколовой", "Гущиным") to the one full name it is the
    surname of."""
    from pipeline.enrich.russian import nominative_forms

    for item in found:
        if " " in item.name or item.name in people or not item.name[:1].isupper():
            continue
        owners = {people[form] for form in nominative_forms(item.name) if form in people}
        if len(owners) == 1:
            people[item.name] = owners.pop()


def _is_full_name(name: str) -> bool:
    words = _NAME_WORDS.split(name)
    capitalised = all(w[:1].isupper() or (w[:1].isalpha() and not w[:1].islower()) for w in words)  # or caseless
    return len(words) >= 2 and capitalised and _SURNAME.fullmatch(words[-1]) is not None


_NAME_WORDS = re.compile(r"[ ・]")  # Japanese writes a foreign name's words apart with a middle dot
_SURNAME = re.compile(r"[^\W\d_][^\W\d_'’-]*(?:[-'’][^\W\d_]+)*")  # noqa: RUF001


def _merge_acronyms(text: str, found: list[_Found]) -> None:
    """Name an organisation's acronym after its full name when the article uses both: the acronym of its
    capitalised words ("ISRO"), or the one it introduces in brackets ("Korean Central News Agency (KCNA)")."""
    full = {
        "".join(w[0] for w in f.name.split() if w[0].isupper()): f.name
        for f in found
        if f.type is EntityType.ORGANISATION and " " in f.name
    }
    at = {f.start for f in found}
    for item in list(found):
        bracket = _BRACKETED.match(text, item.end) if item.type is EntityType.ORGANISATION else None
        if bracket and " " in item.name:
            full.setdefault(bracket.group(1), item.name)
            if bracket.start(1) not in at:  # the acronym's own mention, which the model may have missed
                found.append(_Found(EntityType.ORGANISATION, bracket.start(1), bracket.end(1), bracket.group(1)))
    for item in found:
        if item.name in full and item.name.isupper() and item.type is not EntityType.PLACE:  # or call it a person
            item.type, item.name = EntityType.ORGANISATION, full[item.name]


_BRACKETED = re.compile(r"\s*\(([^\W\d_a-zà-ÿа-яёіїєґ][^\W_a-zà-ÿа-яёіїєґ&]{1,9})\)")


def _group(text: str, found: list[_Found], people: dict[str, str], language: str | None) -> list[Entity]:
    groups: dict[tuple[EntityType, str], tuple[str | None, dict[int, Mention]]] = {}
    for item in found:
        kind, name = item.type, item.name
        if name in people:
            kind, name = EntityType.PERSON, people[name]  # a surname the model took for a place or an organisation
        elif kind is EntityType.PERSON:
            continue  # a lone name never introduced in full is more often a product or a place ("Patriot")
        _, mentions = groups.setdefault((kind, name), (item.country, {}))
        mentions[item.start] = Mention(text=text[item.start : item.end], start=item.start, end=item.end)
    taken = bytearray(len(text))  # 1 where a mention already is
    for _, ms in groups.values():
        for m in ms.values():
            taken[m.start : m.end] = b"\x01" * (m.end - m.start)
    words = _word_index(text)
    for (kind, name), (_, mentions) in groups.items():
        # Names the model saw in the head of the text are counted wherever else they appear.
        surfaces = {m.text for m in mentions.values()} | (
            {w for w, full in people.items() if full == name} if kind is EntityType.PERSON else set()
        )
        for start, end in _occurrences(text, surfaces, words):
            if taken.find(1, start, end) == -1 and not _inside_longer_name(text, start, end, language):
                mentions[start] = Mention(text=text[start:end], start=start, end=end)
                taken[start:end] = b"\x01" * (end - start)
    _link_scripts(groups)
    return [
        Entity(name=name, type=kind, country=country, count=len(ms), mentions=[ms[k] for k in sorted(ms)])
        for (kind, name), (country, ms) in groups.items()
    ]


def _link_scripts(groups: dict[tuple[EntityType, str], tuple[str | None, dict[int, Mention]]]) -> None:
    """Merge a person or organisation written in another script into its Latin spelling in the same text
    ("Володимир Зеленський", "ウォロディミル・ゼレンスキー" -> "Volodymyr Zelensky"): same type, same `name_key`."""
    latin: dict[tuple[EntityType, str], str] = {
        (kind, name_key(name)): name for kind, name in groups if kind is not EntityType.PLACE and _latin(name)
    }
    for kind, name in list(groups):
        target = latin.get((kind, name_key(name)))
        if target is not None and target != name and not _latin(name):
            groups[(kind, target)][1].update(groups.pop((kind, name))[1])


@lru_cache(maxsize=1 << 16)  # the same names recur across a day's articles and stories
def name_key(name: str) -> str:
    """A name reduced to what its spellings in Latin, Cyrillic and katakana share: transliterated, its consonants
    only, l as r and m as n (katakana has neither l nor a final m), v and w dropped (written ウォ, В or W), German
    "sch" and "z" as the others write them."""  # noqa: RUF002
    words = []
    for word in _NAME_WORDS.split(anyascii(unicodedata.normalize("NFC", name)).casefold().replace("-", " ")):
        letters = re.sub(r"[^a-z]", "", word).replace("ph", "f").replace("tsch", "ch").replace("sch", "sh")
        letters = letters.replace("z", "ts").replace("l", "r").replace("m", "n")
        letters = re.sub(r"c(?=[eiy])", "s", letters)  # a soft c is written ス in katakana, с in Cyrillic  # noqa: RUF003
        words.append(re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouyjvwh]", "", letters)))
    return " ".join(w for w in words if w)


def _latin(name: str) -> bool:
    return all(ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in name if ch.isalpha())


def _occurrences(text: str, surfaces: set[str], words: dict[str, list[int]]) -> Iterable[tuple[int, int]]:
    """Whole-word occurrences of the surfaces, looked up by their first word (one regex scan per article)."""
    for surface in sorted(surfaces, key=len, reverse=True):
        first = _FIRST_WORD.match(surface)
        for start in words.get(first.group(), []) if first else []:
            end = start + len(surface)
            if text.startswith(surface, start) and (end == len(text) or not text[end].isalnum()):
                yield start, end


def _word_index(text: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for match in _FIRST_WORD.finditer(text):
        index.setdefault(match.group(), []).append(match.start())
    return index


# Names by their form, which the model misses or mislabels: a dateline's place, an organisation or a facility by
# its head word ("Qantas Airways", "Ministry of Energy", "Volgograd Arena"), an acronym the text defines.
# The heads are generic words of each language (legal forms, kinds of institution or of place), not names.
_ORGANISATION_HEADS = frozenset({
    "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "llc", "llp", "plc", "ag", "gmbh", "sa",
    "se", "nv", "bv", "spa", "ab", "asa", "oyj", "kgaa", "group", "holdings", "holding", "bank", "bancorp",
    "airlines", "airways", "motors", "industries", "technologies", "pharmaceuticals", "insurance", "securities",
    "investments", "partners", "telecom", "communications", "broadcasting", "university", "college", "institute",
    "institution", "academy", "school", "party", "ministry", "department", "council", "commission", "committee",
    "agency", "authority", "association", "foundation", "federation", "union", "organisation", "organization",
    "society", "league", "club", "court", "tribunal", "parliament", "assembly", "senate", "congress", "police",
    "army", "navy", "forces", "guard", "office", "bureau", "board", "service", "services", "trust", "fund",
    "conference", "movement", "front", "alliance", "coalition", "network", "times", "post", "herald", "gazette",
    "journal", "tribune", "telegraph", "press", "magazine", "universität", "universidad", "université",
    "università", "universidade", "universiteit", "partei", "partido", "parti", "partito", "ministerium",
    "ministerio", "ministère", "ministero", "banco", "banque", "banca", "institut", "instituto", "istituto",
    "stiftung", "fundación", "fondation", "fondazione", "verband", "gesellschaft", "asociación", "agencia",
    "agence", "agentur", "comune", "municipio", "ayuntamiento", "municipality", "konzern", "amt"
})  # fmt: skip
_PLACE_HEADS = frozenset({
    "stadium", "arena", "airport", "station", "bridge", "mosque", "cathedral", "temple", "palace", "square",
    "street", "avenue", "road", "boulevard", "highway", "island", "islands", "river", "lake", "mountains", "valley",
    "bay", "sea", "ocean", "desert", "peninsula", "canal", "strait", "gulf", "base", "hall", "tower", "towers",
    "province", "region", "oblast", "prefecture", "museum", "planetarium"
})  # fmt: skip
# Heads that come first: "Lake Victoria", "Mount Kenya", "Gulf of Mexico".
_PLACE_FIRST = frozenset({"lake", "mount", "gulf", "isle", "cape"})
# A person's role after an organisation's name: "the State Department spokesperson Jeff Doe".
_ROLE_AFTER = frozenset({
    "spokesperson", "spokesman", "spokeswoman", "chairman", "chairwoman", "chair", "chief", "minister", "secretary",
    "director", "president", "officer", "leader", "member", "members", "official", "officials", "head", "executive"
})  # fmt: skip
_OF = frozenset({"of", "for", "de", "del", "della", "di", "des", "du", "für", "der", "on"})
_AND = frozenset({"and", "&", "y", "et", "und"})
# Capitalised grammar words inside a title-case headline end a name: "Bank Shares Fall As Ministry Warns".
_TITLE_BREAKS = frozenset({
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "is", "are", "on", "or", "over", "the",
    "to", "was", "were", "with", "after", "before"
})  # fmt: skip
_CAPITAL = re.compile(r"[^\W\d_a-zß-ÿа-яёіїєґ][\w'’&.]*(?:-\w+)*|\d+[^\W\d_]\w*")  # noqa: RUF001
_RUN_TOKEN = re.compile(r"[\w'’&.-]*\w|&")  # noqa: RUF001
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁІЇЄҐ"
_DATELINE = re.compile(
    rf"^[{_UPPER}][{_UPPER}'’.-]+(?: [{_UPPER}][{_UPPER}'’.-]+){{0,3}}"  # noqa: RUF001
    r"(?=(?:, [^\W\d_][^\n,(—–-]{1,40}?)*(?:,? [A-Z][a-z]{2}\.? \d{1,2})?\s*"  # noqa: RUF001
    r"(?:\((?P<agency>[^\W\d_][^)\n]{1,39})\)\s*)?[—–-]\s)",  # noqa: RUF001
    re.MULTILINE,
)
_SHORTEST_DATELINE = 3  # letters: "AP -" is an agency, not a place
_DEFINED = re.compile(r" \(([^\W\d_a-z][A-Z0-9.&]{1,9}|[^\W\d_a-z][^()\n]{4,80})\)")


def _datelines(text: str) -> list[tuple[int, int, tuple[int, int] | None]]:
    """The place of each dateline, and its bracketed agency: capitals opening a paragraph before a dash, an agency
    or a comma and a region ("FRANKFURT (Reuters) -", "TALLINN —", "KYIV, Ukraine —")."""
    return [
        (m.start(), m.end(), m.span("agency") if m.group("agency") else None)
        for m in _DATELINE.finditer(text)
        if sum(ch.isalpha() for ch in m.group()) >= _SHORTEST_DATELINE
    ]


def _by_form(text: str) -> list[_Found]:
    """Organisations and places named by a head word, and organisations defined by an acronym."""
    runs = list(_runs(text))
    found = [f for run in runs for f in _headed(text, run)]
    ends = {run[-1][1]: run for run in runs}
    for match in _DEFINED.finditer(text):
        inner = match.group(1)
        if inner.replace(".", "").isupper() and (run := ends.get(match.start())):
            # "Movimento 5 Stelle (M5S)": the run's last words whose initials are the acronym
            name = _initialled(run, inner.replace(".", ""))
            if name:
                found.append(_Found(EntityType.ORGANISATION, name[0], name[1], text[name[0] : name[1]]))
                found.append(_Found(EntityType.ORGANISATION, match.start(1), match.end(1), inner))
        elif (before := _ACRONYM_BEFORE.search(text, max(0, match.start() - _LONGEST_WORD), match.start())) and (
            name := _initialled([(m.start(), m.end(), m.group()) for m in _RUN_TOKEN.finditer(inner)], before.group())
        ):
            # "CEI (Italian Episcopal Conference)": the acronym first, its words in brackets
            start = match.start(1)
            found.append(_Found(EntityType.ORGANISATION, before.start(), before.end(), before.group()))
            found.append(_Found(EntityType.ORGANISATION, start + name[0], start + name[1], inner[name[0] : name[1]]))
    return found


_ACRONYM_BEFORE = re.compile(r"(?<![\w.])[A-Z][A-Z0-9&]{1,9}$")


def _initialled(run: list[tuple[int, int, str]], acronym: str) -> tuple[int, int] | None:
    """The (start, end) of the shortest tail of `run` whose words' initials spell `acronym`, if one does."""
    for i in range(len(run) - 1, -1, -1):
        if run[i][2] in _OF | _AND:
            continue
        initials = "".join(w[0] if not w.isdigit() else w for _, _, w in run[i:] if w not in _OF | _AND)
        if initials.upper() == acronym and len(run) - i > 1:
            return run[i][0], run[-1][1]
        if len(initials) >= len(acronym):
            return None
    return None


def _headed(text: str, run: list[tuple[int, int, str]]) -> list[_Found]:
    """The organisations or places a run of capitalised words names by head words: the run up to the head
    ("Qantas Airways", "State Department" of "State Department Spokesperson"), through the "of" phrase the head
    governs ("Ministry of Foreign Affairs", "Union of A and B"), or after a head that comes first ("Banco X")."""
    stop = _function_words()
    while run and (
        run[0][2].casefold() in _ARTICLES
        or (_sentence_start(text, run[0][0]) and run[0][2].casefold() in stop and not _acronym(run[0][2]))
    ):
        run = run[1:]  # "The", "In", "Former" opening a sentence; "State" elsewhere is a name's word
    if len(run) < 2:
        return []
    if run[0][2].casefold() in _PLACE_FIRST:
        return [_Found(EntityType.PLACE, run[0][0], run[-1][1], text[run[0][0] : run[-1][1]])]
    heads = [i for i, (_, _, w) in enumerate(run) if _head_word(w) in _ORGANISATION_HEADS | _PLACE_HEADS]
    if not heads:
        return []
    head = heads[-1]
    joins = [i for i in range(head) if run[i][2] in _OF | _AND]
    if joins and not any(run[i][2] in _OF and i - 1 in heads for i in joins):
        # "Shares of X AG", "X Airways and Y Ltd": the name starts after the last joining word
        return [*_headed(text, run[: joins[-1]]), *_headed(text, run[joins[-1] + 1 :])]
    last = head
    if head + 1 < len(run) and run[head + 1][2] in _OF:
        for i in range(head + 2, len(run)):
            if run[i][2] in _OF or (run[i][2] in _AND and any(j in heads for j in range(i, len(run)))):
                break  # "Institute of Technology and Colorado State University": two names
            if run[i][2] not in _AND:
                last = i
    elif head == 0 and run[0][2].casefold() in _HEADS_FIRST:
        last = len(run) - 1
    if last == 0:
        return []
    word = _head_word(run[head][2])
    kind = EntityType.ORGANISATION if word in _ORGANISATION_HEADS else EntityType.PLACE
    return [_Found(kind, run[0][0], run[last][1], text[run[0][0] : run[last][1]])]


def _head_word(word: str) -> str:
    """The head a word is or ends in: "Inc." -> "inc", German compounds "Bundesamt" -> "amt"."""
    word = word.casefold().rstrip(".")
    ending = next((e for e in _COMPOUND_HEADS if word.endswith(e) and len(word) > len(e) + 2), None)
    return "amt" if ending else word


def _acronym(word: str) -> bool:
    return word.isupper() and len(word) > 1


_ARTICLES = frozenset({"the", "a", "an", "der", "die", "das", "le", "la", "les", "el", "los", "las", "il", "lo"})


# Heads of German compounds: "das Statistische Bundesamt", "die Europäische Zentralbank".
_COMPOUND_HEADS = (
    "amt", "bank", "ministerium", "partei", "gericht", "verband", "gewerkschaft", "behörde", "agentur", "konzern",
    "stiftung", "institut", "universität",
)  # fmt: skip


# Heads written before the name in Romance languages: "Banco Santander", "Instituto Cervantes".
_HEADS_FIRST = frozenset({
    "instituto", "istituto", "institut", "universidad", "université", "università", "universidade", "banco",
    "banque", "banca", "partido", "parti", "partito", "ministerio", "ministère", "ministero", "fundación",
    "fondation", "fondazione", "asociación", "agencia", "agence", "comune", "municipio", "ayuntamiento"
})  # fmt: skip


def _runs(text: str) -> Iterable[list[tuple[int, int, str]]]:
    """Runs of capitalised words one space apart, with the small words that join one name ("of", "and")."""
    run: list[tuple[int, int, str]] = []
    for match in _RUN_TOKEN.finditer(text):
        start, end, word = match.start(), match.end(), match.group()
        possessive = word.endswith(("'s", "’s"))  # noqa: RUF001
        if possessive:
            end, word = end - 2, word[:-2]
        capital = bool(_CAPITAL.fullmatch(word)) and (word.casefold() not in _TITLE_BREAKS or not run)
        joiner = word in _OF or word in _AND or word.isdigit()  # "Movimento 5 Stelle"
        if run and text[run[-1][1] : start] == " " and (capital or (joiner and run[-1][2] not in _OF | _AND)):
            run.append((start, end, word))
        else:
            if run:
                yield _trimmed(run)
            run = [(start, end, word)] if capital else []
        if possessive and run:
            yield _trimmed(run)  # "Saudi Arabia's Civil Defense Authority": two names
            run = []
    if run:
        yield _trimmed(run)


def _trimmed(run: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    while run and (run[-1][2] in _OF or run[-1][2] in _AND or run[-1][2].isdigit()):
        run = run[:-1]
    return run


def _add_by_form(text: str, found: list[_Found]) -> list[_Found]:
    """Add the names found by their form: over what the model found inside them or mislabelled with the same
    span, and over a model organisation that only adds a role after the name or lower-case words before it."""
    for rule in _by_form(text):
        overlapping = [f for f in found if f.start < rule.end and rule.start < f.end]
        person = min((f.start for f in overlapping if f.type is EntityType.PERSON and f.start > rule.start), default=0)
        if person:  # "University of Texas Arlington Amneh Jafari": the name ends where a person's begins
            rule.end = rule.start + len(text[rule.start : person].rstrip(" ,"))
            rule.name = text[rule.start : rule.end]
            if rule.name.split()[-1] in _OF | _AND or " " not in rule.name:
                continue
            overlapping = [f for f in overlapping if f.start < rule.end]
        if any(f.type is EntityType.PLACE and (f.start, f.end) == (rule.start, rule.end) for f in overlapping) and (
            " of " not in rule.name
        ):
            continue  # "Soviet Union": the model's place stands, but not for "Municipality of X"
        inside = all(rule.start <= f.start and f.end <= rule.end for f in overlapping)
        wider = [
            f for f in overlapping if f.type is EntityType.ORGANISATION and f.start <= rule.start and rule.end <= f.end
        ]
        if not inside and not (len(wider) == len(overlapping) == 1 and _extra_words(text, wider[0], rule)):
            continue
        found = [f for f in found if f not in overlapping]
        found.append(rule)
    return found


def _extra_words(text: str, wider: _Found, rule: _Found) -> bool:
    """True when what `wider` adds to `rule` is a role after it or lower-case words before it."""
    after = text[rule.end : wider.end].split()
    before = text[wider.start : rule.start].split()
    return (not after or after[0].casefold() in _ROLE_AFTER) and all(w[:1].islower() for w in before)
