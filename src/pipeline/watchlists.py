"""Watchlists: named queries over the digest's stories, read from `[[watchlists]]` in `sources.toml`. Pure.

A story matches a watchlist when every kind of term the watchlist sets (words, people, organisations, places,
countries, sources) has at least one match in it. A watchlist alerts once per story when the story first
matches, and again each time the story has grown by `grow_by` distinct sources since its last alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.models import DigestStory
from pipeline.sources.registry import read_sources_file

__all__ = [
    "Alert",
    "AlertRecord",
    "AlertState",
    "Channel",
    "Watchlist",
    "WatchlistError",
    "load_watchlists",
    "match_story",
    "next_alert",
    "story_sources",
]

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # a key segment of the alert state
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class WatchlistError(ConfigError):
    """The `[[watchlists]]` of the sources file are invalid."""


class Watchlist(BaseModel):
    """A named query; each list it sets must match (any of its entries), the lists it leaves empty do not count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME.pattern, description="Unique slug, used in the alert state's keys.")
    words: list[str] = Field(default_factory=list, description="Words or phrases, whole words, any case.")
    people: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes the story is about.")
    sources: list[str] = Field(default_factory=list, description="Source ids (or names) that reported the story.")
    grow_by: int | None = Field(None, ge=1, description="Alert again after this many more distinct sources.")
    email: list[str] = Field(default_factory=list, description="Recipients of its alerts.")
    webhook: str | None = Field(None, min_length=1, description="Airflow connection id of a webhook to post to.")

    @field_validator("words", "people", "organisations", "places", "sources")
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        cleaned = [" ".join(t.split()) for t in terms]
        if any(not t for t in cleaned):
            raise ValueError("terms must not be blank")
        return cleaned

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, codes: list[str]) -> list[str]:
        if bad := [c for c in codes if not re.fullmatch(r"[A-Za-z]{2}", c)]:
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {', '.join(bad)}")
        return [c.upper() for c in codes]

    @field_validator("email")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        if bad := [a for a in addresses if not EMAIL.match(a)]:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return addresses

    @model_validator(mode="after")
    def _query_and_recipient(self) -> Watchlist:
        if not any((self.words, self.people, self.organisations, self.places, self.countries, self.sources)):
            raise ValueError("a watchlist needs words, people, organisations, places, countries or sources")
        if not self.email and not self.webhook:
            raise ValueError("a watchlist needs `email` recipients or a `webhook` connection")
        return self


Channel = Literal["email", "webhook"]


class AlertRecord(BaseModel):
    """One alert of a story: claimed by a run, then sent on each of its channels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int = Field(ge=1, description="1 for the first match, then one more per growth.")
    day: date = Field(description="The digest the alert links.")
    sources: int = Field(description="Distinct sources of the story when it was raised.")
    run_id: str = Field(description="The run that claimed it; empty once a failed run gave it back.")
    claimed_at: datetime
    sent: bool = Field(False, description="Sent on every channel.")
    delivered: list[Channel] = Field(default_factory=list, description="Channels it was sent on so far.")


class AlertState(BaseModel):
    """What a watchlist knows of one story: every source seen so far and the alerts raised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watchlist: str
    story_id: str
    sources: list[str] = Field(description="Distinct sources of the story seen so far, first seen first.")
    alerts: list[AlertRecord] = Field(default_factory=list)


class Alert(BaseModel):
    """A message to send: a story of a digest that a watchlist matched, first or grown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watchlist: str
    story_id: str
    number: int
    kind: Literal["new", "grown"]
    day: date
    headline: str
    summary: str
    url: str | None = Field(None, description="The representative article.")
    link: str = Field(description="The story in the published digest.")
    sources: list[str] = Field(description="Every distinct source of the story so far.")
    new_sources: list[str] = Field(description="Sources since the previous alert (all of them for the first).")
    email: list[str]
    webhook: str | None = None
    run_id: str = Field(description="The run that claimed it.")
    delivered: list[Channel] = Field(default_factory=list, description="Channels it was already sent on.")

    @property
    def channels(self) -> list[Channel]:
        """Where it goes: e-mail, the webhook, or both."""
        wanted: list[Channel] = ["email"] if self.email else []
        return wanted + (["webhook"] if self.webhook else [])


def load_watchlists(path: Path) -> list[Watchlist]:
    """The `[[watchlists]]` tables of `path` (none when it has none); errors name the file, watchlist and field."""
    entries = read_sources_file(path, WatchlistError).get("watchlists", [])
    if not isinstance(entries, list):
        raise WatchlistError(f"{path}: `watchlists` must be an array of tables ([[watchlists]])")
    watchlists: list[Watchlist] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, start=1):
        label = f"watchlist #{n}" + (f" ({entry['name']!r})" if isinstance(entry, dict) and "name" in entry else "")
        try:
            watchlists.append(Watchlist.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "(entry)"
                problems.append(f"{path}: {label}: {field}: {err['msg']}")
    names = [w.name for w in watchlists]
    problems += [
        f"{path}: watchlist {name!r}: name: duplicate name" for name in sorted(set(names)) if names.count(name) > 1
    ]
    if problems:
        raise WatchlistError("invalid watchlists:\n  " + "\n  ".join(problems))
    return watchlists


def story_sources(story: DigestStory) -> set[str]:
    """The distinct sources of a digest story: its lead's and every other one once (copies counted once)."""
    return {story.source} | {m.source for m in story.also_reported_by}


def match_story(
    watchlist: Watchlist,
    story: DigestStory,
    country: str | None = None,
    place_country: Callable[[str], str | None] = lambda _: None,
    source_names: Callable[[str], Iterable[str]] = lambda s: (s,),
) -> bool:
    """Whether `story` matches every kind of term `watchlist` sets.

    `country` is the story's own (its digest section's); `place_country` gives a place's country code;
    `source_names` the names a watched source id is published under.
    """
    if watchlist.words:
        texts = [story.headline, story.summary, *(m.title for m in story.also_reported_by)]
        texts += [story.quote.text] if story.quote else []
        texts += [r.text for r in story.why] + story.people + story.organisations + story.places
        text = "\n".join(texts)
        if not any(_phrase(word).search(text) for word in watchlist.words):
            return False
    for wanted, named in (
        (watchlist.people, story.people),
        (watchlist.organisations, story.organisations),
        (watchlist.places, story.places),
    ):
        if wanted and not any(_phrase(w).search(name) for w in wanted for name in named):
            return False
    if watchlist.countries:
        codes = {country} | {place_country(p) for p in story.places}
        if not codes & set(watchlist.countries):
            return False
    if watchlist.sources:
        reported = {s.casefold() for s in story_sources(story)}
        if not any(name.casefold() in reported for s in watchlist.sources for name in source_names(s)):
            return False
    return True


def next_alert(
    state: AlertState | None,
    sources: set[str],
    grow_by: int | None,
    day: date,
    run_id: str,
    now: datetime,
    claim_timeout: float,
) -> AlertRecord | None:
    """The alert a matching story is due on `day`, given what was raised before; None when none is.

    An alert given back by a failed run, or claimed by another run and not sent within `claim_timeout`
    seconds, is taken over (with the channels it was already sent on); one claimed by this run (a retry) is
    due again.
    """
    seen = set(state.sources if state else ()) | sources
    alerts = state.alerts if state else []
    last = alerts[-1] if alerts else None
    if last is not None and not last.sent:
        if last.run_id in ("", run_id) or (now - last.claimed_at).total_seconds() > claim_timeout:
            return last.model_copy(update={"day": day, "sources": len(seen), "run_id": run_id, "claimed_at": now})
        return None  # another run is sending it
    sent = last.sources if last else None
    if sent is not None and (grow_by is None or len(seen) - sent < grow_by):
        return None
    return AlertRecord(number=len(alerts) + 1, day=day, sources=len(seen), run_id=run_id, claimed_at=now)


@lru_cache(maxsize=1024)
def _phrase(term: str) -> re.Pattern[str]:
    """`term` as whole words, any case, any run of spaces between its words."""
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)
