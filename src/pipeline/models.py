"""Pydantic models at every boundary between stages."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, model_validator

__all__ = [
    "ARTICLE_SCHEMA_VERSION",
    "SLUG",
    "Article",
    "DatePrecision",
    "DateSource",
    "Digest",
    "DigestCounts",
    "DigestQuote",
    "DigestSection",
    "DigestStory",
    "Enclosure",
    "Enriched",
    "Entity",
    "EntityType",
    "Fetched",
    "Mention",
    "Normalised",
    "OutletKind",
    "PendingPage",
    "QuarantineRecord",
    "Quote",
    "RawItem",
    "Rule",
    "RuleAction",
    "RuleField",
    "RunReport",
    "Section",
    "Source",
    "SourceHealth",
    "SourceKind",
    "SourceProgress",
    "SourceReport",
    "SourceState",
    "Stored",
    "Story",
    "StoryCoverage",
    "StoryDay",
    "StoryMention",
    "StoryReason",
    "TextSource",
]

ARTICLE_SCHEMA_VERSION: Literal[1] = 1
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(StrEnum):
    FEED = "feed"
    JSONFEED = "jsonfeed"
    DOCUMENTS = "documents"
    SITEMAP = "sitemap"  # a news sitemap, a sitemap index or a robots.txt naming them


class OutletKind(StrEnum):
    """What kind of publisher a source is: the digest counts a story's coverage by it."""

    WIRE = "wire"
    NEWSPAPER = "newspaper"
    BROADCASTER = "broadcaster"
    AGENCY = "agency"
    GOVERNMENT = "government"
    MAGAZINE = "magazine"
    BLOG = "blog"


class RuleAction(StrEnum):
    KEEP = "keep"
    DROP = "drop"
    TAG = "tag"


class RuleField(StrEnum):
    """What a rule looks at: the item's own fields, or (known after enrichment) language and entities."""

    TITLE = "title"
    TEXT = "text"
    URL = "url"
    AUTHOR = "author"
    CATEGORIES = "categories"
    LANGUAGE = "language"
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    COUNTRY = "country"


class Rule(_Model):
    """One `[[rules]]` (or a source's `[[sources.rules]]`) table: keep, drop or tag an item that matches."""

    name: str = Field(pattern=SLUG.pattern, description="Unique within its list; named in reports and errors.")
    action: RuleAction
    fields: list[RuleField] = Field(
        default_factory=lambda: [RuleField.TITLE, RuleField.TEXT], min_length=1, description="Matched if any is."
    )
    words: list[str] = Field(default_factory=list, description="Whole words or phrases, case-insensitive.")
    regex: str | None = Field(
        None, max_length=2000, description="RE2 syntax (linear time); case-sensitive unless `(?i)`."
    )
    tag: str | None = Field(None, min_length=1, max_length=64, description="The tag a `tag` rule adds (default: name).")

    @model_validator(mode="after")
    def _one_matcher(self) -> Rule:
        if bool(self.words) == (self.regex is not None):
            raise ValueError("a rule needs exactly one of `words` or `regex`")
        if any(not w.split() for w in self.words):
            raise ValueError("`words` may not hold an empty word")
        if self.tag is not None and self.action is not RuleAction.TAG:
            raise ValueError("only a `tag` rule takes `tag`")
        return self


class Source(_Model):
    """One entry of `sources.toml`."""

    id: str = Field(pattern=SLUG.pattern, description="Unique slug, used in object keys.")
    kind: SourceKind
    name: str | None = None
    url: HttpUrl | None = None
    path: str | None = Field(None, description="Local folder (relative to the sources file) or s3://bucket/prefix/")
    enabled: bool = True
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1 hint")
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of the publisher.")
    outlet: OutletKind | None = Field(None, description="What kind of publisher it is (`kind` is the feed's format).")
    fetch_fulltext: bool = False
    allow_private_network: bool = Field(False, description="Permit loopback/private addresses for this source.")
    consume: bool = Field(False, description="Move each document to processed/ once stored (the inbox).")
    max_items: int | None = Field(None, ge=1)
    tags: list[str] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list, description="Rules for this source's items (after the global).")

    @model_validator(mode="after")
    def _location_matches_kind(self) -> Source:
        if self.kind is SourceKind.DOCUMENTS:
            if not self.path or self.url:
                raise ValueError("a documents source needs `path` (and no `url`)")
        elif not self.url or self.path:
            raise ValueError(f"a {self.kind} source needs `url` (and no `path`)")
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.id


class DateSource(StrEnum):
    """Where an article's published date came from."""

    FEED = "feed"
    HEADER = "header"
    PAGE = "page"
    FETCHED = "fetched"


class DatePrecision(StrEnum):
    """How exact a published date is: to the second (with its zone), or only the day."""

    TIME = "time"
    DAY = "day"


class TextSource(StrEnum):
    """Where an article's text came from."""

    FEED = "feed"
    PAGE = "page"
    DOCUMENT = "document"


class Section(_Model):
    heading: str | None = None
    paragraphs: list[str]


class Enclosure(_Model):
    """A media file attached to an item: a podcast episode, a Media RSS object, a JSON Feed attachment."""

    url: str = Field(pattern=r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+", description="An absolute http(s) URL.")
    type: str | None = Field(None, description="Its MIME type, as the feed gives it.")
    length: int | None = Field(None, ge=1, description="Its size in bytes, as the feed gives it.")


class RawItem(_Model):
    """One item read from a payload, before normalisation."""

    source_id: str
    raw_key: str
    index: int = Field(description="Position of the item within its payload.")
    fetched_at: AwareDatetime
    url: str | None = None
    guid: str | None = Field(None, description="The feed's own item id, used when an item has no link.")
    title: str | None = None
    html: str | None = Field(None, description="Item body as HTML, when the input has markup.")
    sections: list[Section]
    published_at: AwareDatetime | None = None
    date_source: DateSource | None = None
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    image_url: str | None = None
    enclosures: list[Enclosure] = Field(default_factory=list)
    canonical_url: str | None = Field(None, description="The article page's own canonical URL, when it was fetched.")
    text_source: TextSource | None = Field(None, description="Where the text came from, when not the item itself.")
    language_hint: str | None = None
    source_name: str | None = None
    published_precision: DatePrecision = DatePrecision.TIME
    modified_at: AwareDatetime | None = None
    section: str | None = None
    description: str | None = None
    site_name: str | None = None
    origins: dict[str, str] = Field(default_factory=dict, description="Field -> where its value came from.")


class EntityType(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"


class Mention(_Model):
    text: str
    start: int = Field(description="Character offset in `Article.text`.")
    end: int


class Entity(_Model):
    """One person, organisation or place, with every mention of it in the article's text."""

    name: str = Field(description="Canonical name: the fullest form used in the article or the gazetteer's.")
    type: EntityType
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code of a place (its own, for a country).")
    count: int
    mentions: list[Mention]


class Quote(_Model):
    text: str
    speaker: str | None = Field(None, description="Canonical name of the person (or organisation) quoted.")
    direct: bool = Field(description="Quoted words, as opposed to an attributed statement (`X said that …`).")
    start: int = Field(description="Character offset of the quoted words in `Article.text`.")
    end: int


class Article(_Model):
    """One normalised, enriched article: the unit that is stored, deduplicated and digested."""

    schema_version: Literal[1] = ARTICLE_SCHEMA_VERSION
    id: str = Field(description="Stable hash of the canonical URL, or of source + title + date without a URL.")
    source: str
    source_name: str
    url: str | None = None
    canonical_url: str | None = Field(None, description="The article page's `rel=canonical`, on the item's own site.")
    title: str
    title_derived: bool = Field(description="True when the input had no title and one was made from the lead.")
    lead: str
    sections: list[Section]
    text: str = Field(description="Plain text: paragraphs separated by blank lines, headings on their own line.")
    text_source: TextSource = Field(
        TextSource.FEED, description="`page` when the text is the article page's; `feed` when the page was not had."
    )
    html: str | None = Field(None, description="The input's markup, sanitised (nh3) for display.")
    published_at: AwareDatetime
    published_date: date
    published_precision: DatePrecision = Field(
        DatePrecision.TIME, description="`day` when the input gave a date without a time (kept as 00:00 UTC)."
    )
    modified_at: AwareDatetime | None = Field(None, description="When the page says the article was last changed.")
    date_source: DateSource
    date_flagged: bool = Field(False, description="The date is missing or implausible and was not trusted.")
    fetched_at: AwareDatetime
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    section: str | None = Field(None, description="The publisher's section (`article:section`, `articleSection`).")
    description: str | None = Field(None, description="The publisher's own short description of the article.")
    site_name: str | None = Field(None, description="The publication's name as its page gives it.")
    image_url: str | None = None
    enclosures: list[Enclosure] = Field(
        default_factory=list, description="Media attached to the item (enclosures, Media RSS, JSON Feed attachments)."
    )
    origins: dict[str, str] = Field(
        default_factory=dict,
        description="Field -> where its value came from: `feed`, or the page's `json-ld`, `open-graph`, `meta`, "
        "`microdata`, `time`, `link`, `trafilatura`; `lead` for a title made from the text.",
    )
    language: str | None = None
    language_confidence: float | None = None
    summary: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Tags the `tag` rules of `sources.toml` gave it.")
    enrichment: dict[str, str] = Field(
        default_factory=dict, description="Enriched field -> the enricher and version that produced it."
    )
    content_hash: str = Field(description="sha256 of the normalised title and text.")
    raw_key: str
    revision: int = 1
    story_id: str | None = Field(None, description="Id of the first article of the story this one belongs to.")
    duplicate_of: str | None = Field(None, description="Id of the article this one copies (exactly or nearly).")


class SourceHealth(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"
    DISABLED = "disabled"


class PendingPage(_Model):
    """An article stored with the feed's text whose page a later run fetches."""

    raw_key: str = Field(description="The payload the item was read from.")
    attempts: int = 0


class SourceState(_Model):
    """What the next fetch of a source needs to know: state/sources/{id}.json."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = Field(None, description="Of the last payload stored, to skip identical refetches.")
    documents: dict[str, str] = Field(
        default_factory=dict, description="Document name -> sha256 of the content last stored."
    )
    health: SourceHealth = SourceHealth.HEALTHY
    consecutive_failures: int = 0
    poll_interval: float | None = Field(
        None, description="Seconds between polls: from the feed's ttl, sy:update*, max-age, or how often it publishes."
    )
    failure_weight: float = Field(
        0.0, description="Failures since the last success, weighted: a timeout or 5xx counts half a 404 or DNS failure."
    )
    last_error: str | None = None
    last_status: int | None = None
    next_attempt_at: AwareDatetime | None = Field(None, description="Backoff or max-age: not fetched before this.")
    last_success_at: AwareDatetime | None = None
    pending_pages: dict[str, PendingPage] = Field(
        default_factory=dict, description="Item link -> the article page still to fetch for its full text."
    )


class QuarantineRecord(_Model):
    source: str
    raw_key: str
    item_index: int | None = None
    reason: str
    quarantined_at: AwareDatetime


class SourceProgress(_Model):
    """What every stage hands the next for one source: keys and counts so far, never article bodies.

    A source that failed, or was not due, carries its `error` or `not_due_until` through the later stages.
    """

    source: str
    run_id: str
    fetched_at: AwareDatetime | None = None
    raw_keys: list[str] = Field(default_factory=list, description="Payloads archived under raw/ by this run.")
    not_modified: int = Field(0, description="Inputs unchanged since they were last stored; not read again.")
    not_due_until: AwareDatetime | None = Field(None, description="Skipped: backing off or cached until then.")
    not_due_reason: str | None = Field(None, description="Why it is not due: the failure backed off from, or cache.")
    backing_off: bool = Field(False, description="Not due because the source's recent failures are backed off from.")
    deferred: bool = Field(False, description="Not fetched: the run's fetch budget was spent; first in the next run.")
    read: int = Field(0, description="Items read from the payloads.")
    quarantined: int = Field(0, description="Items (or whole payloads) rejected, each with a quarantine record.")
    filtered: int = Field(0, description="Items the rules of `sources.toml` dropped; their payloads stay in raw/.")
    consumed: dict[str, str] = Field(default_factory=dict, description="Inbox key -> where it goes once stored.")
    state: SourceState | None = Field(None, description="Committed by the store stage once articles are safe.")
    durations: dict[str, float] = Field(default_factory=dict, description="Seconds spent per stage.")
    error: str | None = None

    pages_missing: int = Field(0, description="Articles stored without their page's text; a later run fetches it.")

    @property
    def going(self) -> bool:
        """Still to be worked on: neither failed nor skipped."""
        return self.error is None and self.not_due_until is None and not self.deferred


class Fetched(SourceProgress):
    """The fetch stage's result: payloads under raw/, and the article pages fetched for their full text."""

    pages: dict[str, str] = Field(default_factory=dict, description="Item link -> raw key of its full page.")
    only_items: list[str] = Field(
        default_factory=list, description="Re-read just these items' links from `raw_keys` (pages fetched late)."
    )


class Normalised(SourceProgress):
    """The normalise stage's result: its articles staged as JSON Lines."""

    normalised_key: str | None = Field(None, description="Staged articles; None when nothing new was read.")


class Enriched(SourceProgress):
    """The enrich stage's result: the enriched articles staged as JSON Lines."""

    enriched_key: str | None = Field(None, description="Staged articles; None when nothing new was read.")


class Stored(SourceProgress):
    """The store stage's result: what it wrote, and where the list of written article keys waits."""

    stored: int = 0
    duplicates: int = Field(0, description="Articles already stored with the same content.")
    dates: list[date] = Field(default_factory=list, description="Published dates of the articles written.")
    stored_keys_key: str | None = Field(None, description="JSON list of the article keys written, for the report.")


class SourceReport(_Model):
    """One source's line of the run report."""

    source: str
    fetched_at: AwareDatetime | None = None
    raw_keys: list[str] = Field(default_factory=list)
    not_modified: int = 0
    not_due_until: AwareDatetime | None = None
    not_due_reason: str | None = None
    backing_off: bool = False
    deferred: bool = False
    pages_missing: int = 0
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    filtered: int = 0
    dates: list[date] = Field(default_factory=list)
    article_keys: list[str] = Field(default_factory=list, description="Articles written or revised by the run.")
    durations: dict[str, float] = Field(default_factory=dict)
    error: str | None = None


class RunReport(_Model):
    """runs/{dag_id}/{run_id}.json: what a run read, wrote and failed on, per source and stage."""

    dag_id: str
    run_id: str
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime
    duration_s: float | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="The run's parameters (inputs).")
    sources: list[SourceReport]
    not_modified: int
    read: int
    stored: int
    duplicates: int
    quarantined: int
    filtered: int = Field(0, description="Items dropped by rules: read = stored + duplicates + quarantined + this.")
    failed_sources: list[str]
    deferred_sources: list[str] = Field(default_factory=list, description="Not fetched: the fetch budget was spent.")
    dates: list[date]

    @property
    def all_failed(self) -> bool:
        """Every planned source failed: the run as a whole failed (one failing source does not)."""
        return bool(self.failed_sources) and len(self.failed_sources) == len(
            {s.source for s in self.sources} | set(self.failed_sources)
        )


class Story(_Model):
    """Articles about one event across sources: syndicated copies and rewrites."""

    story_id: str
    representative: str = Field(description="Id of the article that stands for the story.")
    articles: list[str]
    sources: list[str]


class StoryMention(_Model):
    """One source that also reported a story: named once, with its first article of the story."""

    source: str
    title: str
    url: str | None = None
    copied: bool = Field(False, description="Its article copies another's (syndicated or nearly).")


class StoryCoverage(_Model):
    """Who reported a story: distinct sources, originals and copies, languages, the sources' countries and kinds."""

    articles: int
    sources: int
    originals: int = Field(description="Articles in their own words.")
    copies: int = Field(description="Articles that copy another (`duplicate_of`).")
    languages: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes of the sources.")
    outlets: dict[str, int] = Field(default_factory=dict, description="Outlet kind -> distinct sources of it.")


class StoryReason(_Model):
    """Something the story's independent reports share: why they were grouped."""

    kind: Literal["name", "number", "term"]
    text: str
    articles: int = Field(description="Independent reports that mention it.")


class StoryDay(_Model):
    """One day of a story's timeline."""

    day: date
    articles: int
    sources: int
    first_at: AwareDatetime


class DigestQuote(_Model):
    text: str
    speaker: str


class DigestStory(_Model):
    """One entry of the digest: a story, told by its representative article, with who else reported it."""

    story_id: str
    headline: str
    summary: str
    url: str | None = None
    source: str
    published_at: AwareDatetime
    language: str | None = None
    section: str = Field(description="Title of the section the story is listed under.")
    score: float = Field(description="Rank score: independent sources, then all sources, recency and salience.")
    independent_sources: int = Field(description="Sources that reported it in their own words (not copies).")
    people: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Every tag the rules gave the story's articles.")
    quote: DigestQuote | None = Field(None, description="A notable direct quote, with its speaker.")
    also_reported_by: list[StoryMention] = Field(
        default_factory=list, description="Every other source once, originals first, then by time."
    )
    coverage: StoryCoverage | None = None
    why: list[StoryReason] = Field(default_factory=list, description="What its reports share, most shared first.")
    timeline: list[StoryDay] = Field(default_factory=list, description="The story's days so far, oldest first.")


class DigestSection(_Model):
    title: str
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code when the section is a country.")
    story_ids: list[str] = Field(description="Stories of the section, best first.")


class DigestCounts(_Model):
    articles: int
    sources: int
    stories: int
    languages: int


class Digest(_Model):
    """The daily digest, independent of its rendering; its JSON form is `digest.json`."""

    date: date
    timezone: str
    title: str
    counts: DigestCounts
    stories: list[DigestStory] = Field(description="Every story of the day, best first.")
    sections: list[DigestSection] = Field(
        default_factory=list, description="Top stories, then the rest by the country they are about."
    )
    updated_at: datetime = Field(description="Newest article time: stable for the same articles.")
