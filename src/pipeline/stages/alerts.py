"""What the news_alerts DAG calls: which digests to read, the alerts the watchlists are due, and their delivery.

Alerts are claimed in the bucket before they are sent (`state/alerts/{watchlist}/{story_id}.json`, written
with conditional writes), so two runs never send one alert twice; a failed send gives its claim back, noting
the channels it did reach, so they are not sent to again.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pipeline.digest.publish import list_digest_dates, load_digest
from pipeline.errors import TransientError
from pipeline.models import DigestStory
from pipeline.settings import Settings
from pipeline.storage.keys import alert_state_key
from pipeline.storage.store import ObjectStore
from pipeline.watchlists import (
    Alert,
    AlertState,
    Channel,
    Watchlist,
    load_watchlists,
    match_story,
    next_alert,
    story_sources,
)

__all__ = ["alert_days", "alert_message", "alert_payload", "claim_alerts", "deliver_alerts", "story_link"]

log = logging.getLogger(__name__)

RECENT_DIGESTS = 2  # read when a trigger names no day: today's and yesterday's, in practice
CLAIM_TIMEOUT = 2 * 3600.0  # seconds; longer than a task may run, so only a dead run's claim is taken over
ATTEMPTS = 5  # conditional writes lost to other runs before giving up


def alert_days(store: ObjectStore, chosen: str | None, events: Iterable[dict[str, Any]]) -> list[date]:
    """The digests to read: the form's day, else the days the digest events name, else the newest ones."""
    if chosen:
        return [date.fromisoformat(chosen)]
    named: set[date] = set()
    for event in events:
        for value in [event.get("date"), event.get("partition_key"), *(event.get("dates") or [])]:
            try:
                named.add(date.fromisoformat(str(value)))
            except ValueError:
                continue  # no day in it (a None, or a partition key of another shape)
    return sorted(named) or list_digest_dates(store)[-RECENT_DIGESTS:]


def story_link(digest_url: str, day: date, story_id: str) -> str:
    """The story's place in the digest of `day`: `digest_url` with its `{date}` filled in, and the anchor."""
    return f"{digest_url.replace('{date}', day.isoformat())}#story-{story_id}"


def claim_alerts(
    store: ObjectStore,
    settings: Settings,
    days: Sequence[date],
    run_id: str,
    digest_url: str,
    now: datetime | None = None,
) -> list[Alert]:
    """Match the digests of `days` against the watchlists and claim the alerts that are due, one per story."""
    watchlists = load_watchlists(settings.sources_file)
    if not watchlists:
        return []
    now = now or datetime.now(UTC)
    names = _source_names(settings)
    place_country = _place_country(settings) if any(w.countries for w in watchlists) else lambda _: None
    # A story in several of the days is one story: its newest digest and every source of all of them.
    latest: dict[tuple[str, str], tuple[date, DigestStory, set[str]]] = {}
    for day in sorted(days):
        digest = load_digest(store, day)
        if digest is None:
            continue
        country_of = {sid: s.country for s in digest.sections for sid in s.story_ids}
        for story in digest.stories:
            sources = story_sources(story)
            for watchlist in watchlists:
                if match_story(watchlist, story, country_of.get(story.story_id), place_country, names):
                    earlier = latest.get((watchlist.name, story.story_id))
                    latest[watchlist.name, story.story_id] = (day, story, sources | (earlier[2] if earlier else set()))
    by_name = {w.name: w for w in watchlists}
    alerts = []
    for (name, _), (day, story, sources) in sorted(latest.items()):
        alert = _claim(store, by_name[name], story, sources, day, run_id, digest_url, now)
        if alert is not None:
            alerts.append(alert)
    return alerts


def deliver_alerts(store: ObjectStore, alerts: Sequence[Alert], send: Callable[[Alert, Channel], None]) -> list[str]:
    """Send each alert on each of its channels not yet done, and record it; return the alerts sent.

    A failed channel gives the alert's claim back, with the channels done, so the next attempt sends only
    what is missing. Raises `TransientError` after trying them all when any failed.
    """
    sent, failed = [], []
    for alert in alerts:
        done = list(alert.delivered)
        for channel in [c for c in alert.channels if c not in done]:
            try:
                send(alert, channel)
            except Exception as exc:
                log.warning(
                    "alert %s/%s#%s: %s failed: %s", alert.watchlist, alert.story_id, alert.number, channel, exc
                )
                failed.append(f"{alert.watchlist}/{alert.story_id} ({channel}): {exc}")
                break
            done.append(channel)
        complete = set(done) >= set(alert.channels)
        _update_record(store, alert, done, complete)
        if complete:
            sent.append(f"{alert.watchlist}/{alert.story_id}#{alert.number}")
    if failed:
        raise TransientError(f"{len(failed)} of {len(alerts)} alerts not sent: " + "; ".join(failed))
    return sent


def alert_message(alert: Alert) -> tuple[str, str]:
    """The e-mail of an alert: its subject and HTML body (every value escaped: they come from feeds)."""
    grown = f" (now {len(alert.sources)} sources)" if alert.kind == "grown" else ""
    subject = " ".join(f"[{alert.watchlist}] {alert.headline}{grown}".split())  # no line breaks in a header
    e = html.escape
    lines = [
        f"<p>Watchlist <b>{e(alert.watchlist)}</b>: "
        + ("a story matched." if alert.kind == "new" else f"the story has grown to {len(alert.sources)} sources.")
        + "</p>",
        f'<h2><a href="{e(alert.link)}">{e(alert.headline)}</a></h2>',
        f"<p>{e(alert.summary)}</p>" if alert.summary else "",
        f"<p>{'Reported by' if alert.kind == 'new' else 'New sources'}: {e(', '.join(alert.new_sources))}</p>",
        f'<p><a href="{e(alert.link)}">Read it in the digest of {alert.day.isoformat()}</a>'
        + (f' or <a href="{e(alert.url)}">at its source</a>' if alert.url else "")
        + ".</p>",
    ]
    return subject, "\n".join(line for line in lines if line)


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The JSON a webhook gets: the alert without its recipients and claim."""
    return alert.model_dump(mode="json", exclude={"email", "webhook", "run_id", "delivered"})


def _claim(
    store: ObjectStore,
    watchlist: Watchlist,
    story: DigestStory,
    sources: set[str],
    day: date,
    run_id: str,
    digest_url: str,
    now: datetime,
) -> Alert | None:
    """Record the story's sources and, when one is due, claim its alert; None when none is due."""
    key = alert_state_key(watchlist.name, story.story_id)
    for _ in range(ATTEMPTS):
        found = store.get_with_etag(key)
        state = AlertState.model_validate_json(found[0]) if found else None
        known = list(state.sources) if state else []
        seen = known + sorted(sources - set(known))  # first seen first: an alert's new sources are a tail
        record = next_alert(state, sources, watchlist.grow_by, day, run_id, now, CLAIM_TIMEOUT)
        if record is None and state is not None and seen == state.sources:
            return None
        alerts = list(state.alerts) if state else []
        if record is not None:
            alerts = [a for a in alerts if a.number != record.number] + [record]
        updated = AlertState(watchlist=watchlist.name, story_id=story.story_id, sources=seen, alerts=alerts)
        body = updated.model_dump_json(indent=2).encode()
        written = store.replace(key, body, found[1], "application/json") if found else store.put_new(key, body)
        if not written:
            continue  # another run wrote it meanwhile: decide again from what it wrote
        if record is None:
            return None
        previous = next((a.sources for a in reversed(alerts) if a.sent), 0)
        return Alert(
            watchlist=watchlist.name,
            story_id=story.story_id,
            number=record.number,
            kind="new" if record.number == 1 else "grown",
            day=day,
            headline=story.headline,
            summary=story.summary,
            url=story.url,
            link=story_link(digest_url, day, story.story_id),
            sources=seen,
            new_sources=seen[previous:],
            email=watchlist.email,
            webhook=watchlist.webhook,
            run_id=run_id,
            delivered=record.delivered,
        )
    raise TransientError(f"{key}: changed by other runs {ATTEMPTS} times in a row")


def _update_record(store: ObjectStore, alert: Alert, delivered: list[Channel], sent: bool) -> None:
    """Record the channels the alert went out on: sent when all of them, else its claim given back."""
    key = alert_state_key(alert.watchlist, alert.story_id)
    update = {"delivered": delivered, "sent": sent} | ({} if sent else {"run_id": ""})
    for _ in range(ATTEMPTS):
        found = store.get_with_etag(key)
        if found is None:
            return
        state = AlertState.model_validate_json(found[0])
        mine = [a for a in state.alerts if a.number == alert.number and a.run_id == alert.run_id and not a.sent]
        if not mine:
            return  # taken over by another run meanwhile: it is that run's now
        records = [a.model_copy(update=update) if a is mine[0] else a for a in state.alerts]
        body = state.model_copy(update={"alerts": records}).model_dump_json(indent=2).encode()
        if store.replace(key, body, found[1], "application/json"):
            return
    raise TransientError(f"{key}: changed by other runs {ATTEMPTS} times in a row")


def _source_names(settings: Settings) -> Callable[[str], Iterable[str]]:
    """A watched source (an id) -> the names it is published under: itself and its registry name."""
    from pipeline.sources.registry import RegistryError, load_registry

    try:
        registry = {s.id: s for s in load_registry(settings.sources_file).sources}
    except RegistryError:  # the watchlists still match sources by the names they give
        registry = {}

    def names(source: str) -> Iterable[str]:
        known = registry.get(source)
        return (source, known.display_name) if known else (source,)

    return names


def _place_country(settings: Settings) -> Callable[[str], str | None]:
    """A place name of the digest -> its country code, from the gazetteer the entities were found with."""
    from pipeline.enrich.gazetteer import gazetteer

    places = gazetteer(tuple(settings.languages), tuple(sorted(settings.country_names.items())))

    def country(name: str) -> str | None:
        place = places.lookup(name)
        return place.country if place else None

    return country
