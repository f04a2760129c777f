"""When a report's event happened: the days its opening names, read against its publication date.

Reports say "on Tuesday", "yesterday", "am Dienstag", "вівторок", "火曜日" or "9 January" rather than a full
date. The words come from dateparser's per-language tables (weekdays, months, relative days) and are looked up
word by word: dateparser's own search tries every token against many languages and is far too slow for placement.
A weekday is one of the five days before the publication day (in the publisher's zone), that day, or the next:
an event in a zone ahead of the publisher's can happen on its "tomorrow", and "last Friday" is said of a week ago.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

__all__ = ["event_day", "mentioned_days"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MIN_WORD = 4  # shorter day words are abbreviations ("mar", "di", "so") that are ordinary words elsewhere
MIN_MONTH = 3  # a month needs a day number beside it, so its abbreviations are safe ("Jan. 15")
MIN_IDEOGRAPHS = 2  # "火曜日", "昨日": one ideograph alone ("日") is a word of its own
_RELATIVE = re.compile(r"^(?:(\d+) day ago|in (\d+) day)$")
_WORD = re.compile(r"\w+")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_IDEOGRAPHIC_DATE = re.compile(r"(?<!\d)(?:(1[0-2]|0?[1-9])月)?([12]?\d|3[01])日")
_DAY_OF_MONTH = re.compile(r"^(?:[12]?\d|3[01])$")


@dataclass
class _Table:
    """A language's day words: phrases by their first word, ideographic forms, and month names."""

    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    ideographic: dict[str, str] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)


def _ideographic(form: str) -> bool:
    return all(ord(c) >= 0x3000 for c in form)


def _spelled(form: str) -> bool:
    return re.fullmatch(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*", form) is not None


@lru_cache(maxsize=64)
def _table(language: str) -> _Table:
    """The day words of `language` (meaning "w<weekday>" or "r<offset>"), empty when dateparser has none."""
    table = _Table()
    try:
        info = importlib.import_module(f"dateparser.data.date_translation_data.{language}").info
    except ImportError:
        return table
    days: dict[str, str] = {}
    for n, weekday in enumerate(WEEKDAYS):
        for form in info.get(weekday, []):
            days.setdefault(form.casefold(), f"w{n}")
    for meaning, forms in info.get("relative-type", {}).items():
        found = _RELATIVE.match(meaning)
        if found is not None:
            offset = -int(found[1]) if found[1] is not None else int(found[2])
            for form in forms:
                days.setdefault(form.casefold(), f"r{offset}")
    # Phrases dateparser rewrites into a relative day: "last night" is "yesterday night".
    for simplification in info.get("simplifications", []):
        for phrase, rewritten in simplification.items():
            first = str(rewritten).casefold().split(" ")[0]
            if _spelled(phrase) and days.get(first, "w").startswith("r"):
                days.setdefault(phrase.casefold(), days[first])
    for form, meaning in days.items():
        if not _spelled(form):
            continue
        if _ideographic(form):
            if len(form) >= MIN_IDEOGRAPHS:
                table.ideographic[form] = meaning
        elif len(form) >= MIN_WORD:
            words = tuple(_WORD.findall(form))
            table.phrases.setdefault(words[0], []).append((words, meaning))
    for phrases in table.phrases.values():
        phrases.sort(key=lambda p: -len(p[0]))
    for n, month in enumerate(MONTHS, 1):
        for form in info.get(month, []):
            if _spelled(form) and not _ideographic(form) and len(form) >= MIN_MONTH:
                table.months.setdefault(form.casefold(), n)
    return table


def _nearest(month: int, day: int, published: date) -> date | None:
    """That month and day nearest the publication day (a report rarely spans a year's turn)."""
    candidates = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    return min(candidates, key=lambda d: abs((d - published).days), default=None)


def _resolve(meaning: str, published: date) -> date:
    if meaning[0] == "w":
        back = (published.weekday() - int(meaning[1:])) % 7
        return published + timedelta(days=1 if back == 6 else -back)
    return published + timedelta(days=int(meaning[1:]))


def _day_number(words: list[str], i: int) -> int | None:
    """The day number beside the month at `i`: "9 January", "9. Januar", "9 de enero", "January 9"."""
    for j in (i - 1, i - 2, i + 1):
        if 0 <= j < len(words) and _DAY_OF_MONTH.match(words[j]) and (j != i - 2 or len(words[i - 1]) <= 2):
            return int(words[j])
    return None


def mentioned_days(text: str, language: str | None, published_at: datetime) -> list[date]:
    """The days `text` names, resolved against when it was published (in the publisher's zone)."""
    published = published_at.date()
    table = _table(language or "en")
    folded = text.casefold()
    words = _WORD.findall(folded)
    found: list[date | None] = []
    for i, word in enumerate(words):
        for phrase, meaning in table.phrases.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append(_resolve(meaning, published))
                break
        month = table.months.get(word)
        if month is not None:
            day = _day_number(words, i)
            if day is not None:
                found.append(_nearest(month, day, published))
    if table.ideographic:
        found += [_resolve(meaning, published) for form, meaning in table.ideographic.items() if form in folded]
        for match in _IDEOGRAPHIC_DATE.finditer(folded):
            month = int(match[1]) if match[1] else published.month
            found.append(_nearest(month, int(match[2]), published))
    for match in _ISO.finditer(text):
        try:
            found.append(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            continue
    return [d for d in found if d is not None]


def event_day(parts: list[str], language: str | None, published_at: datetime) -> int:
    """The day (proleptic ordinal) the report's opening `parts` say its event happened, 0 when they name none:
    the latest day named up to its publication (earlier ones are the background it recalls, later ones plans),
    else the day after it (in a zone ahead of the publisher's)."""
    published = published_at.date()
    days = {d for part in parts for d in mentioned_days(part, language, published_at)}
    past = [d for d in days if d <= published]
    if past:
        return max(past).toordinal()
    ahead = published + timedelta(days=1)
    return ahead.toordinal() if ahead in days else 0
