"""The `news` command: the pipeline's stages without Airflow, plus the embedded object store."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline import stages
from pipeline.errors import PipelineError
from pipeline.storage.keys import articles_prefix, digest_key, runs_prefix

# `news --help` must answer at once: what a command needs is imported when it runs (pydantic models, settings,
# boto3, the embedded server), not when the command line is read.
if TYPE_CHECKING:
    from pipeline.models import RunReport, SourceReport
    from pipeline.seaweed import EmbeddedS3
    from pipeline.settings import Settings
    from pipeline.sources import Registry
    from pipeline.sources.discovery import FeedCandidate
    from pipeline.storage.store import ObjectStore

__all__ = ["app"]

app = typer.Typer(help="news-pipeline: fetch, enrich, store and digest news.", no_args_is_help=True)
s3_app = typer.Typer(help="Embedded SeaweedFS object store (127.0.0.1 only).", no_args_is_help=True)
sources_app = typer.Typer(help="The source registry.", no_args_is_help=True)
digest_app = typer.Typer(help="Daily digests.", no_args_is_help=True)
runs_app = typer.Typer(help="Run reports.", no_args_is_help=True)
articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
lake_app = typer.Typer(help="The Parquet lake and retention.", no_args_is_help=True)
rules_app = typer.Typer(help="The keep, drop and tag rules of the sources file.", no_args_is_help=True)
app.add_typer(s3_app, name="s3")
app.add_typer(sources_app, name="sources")
app.add_typer(digest_app, name="digest")
app.add_typer(runs_app, name="runs")
app.add_typer(articles_app, name="articles")
app.add_typer(lake_app, name="lake")
app.add_typer(rules_app, name="rules")

# Titles, keys, errors and query results come from feeds: nothing printed is read as markup ("[/]" crashed,
# "[link=...]" made links) or as emoji codes; styles are given as Text styles instead.
console = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)
# Terminal control codes (ESC starts colours, window titles, links; C1 has its own CSI): never written out.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

SourcesOption = Annotated[Path | None, typer.Option("--sources", help="Sources file (default: seeds/sources.toml).")]
EverySourceOption = Annotated[
    bool, typer.Option("--all", help="A row for every source, also those unchanged or not due.")
]


class Format(StrEnum):
    md = "md"
    json = "json"
    html = "html"


def get_settings() -> Settings:
    """The process's settings (read on first use)."""
    from pipeline.settings import get_settings as process_settings

    return process_settings()


def _embedded() -> EmbeddedS3:
    from pipeline.seaweed import EmbeddedS3

    return EmbeddedS3(get_settings())


def _settings(sources: Path | None = None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"sources_file": sources}) if sources else settings


def _shown(value: object, style: str = "") -> Text:
    """Text from a feed or the bucket, shown as it is: without control codes, never as markup."""
    return Text(_CONTROL.sub("", str(value)), style=style)


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error:", "bold red"), " ", _shown(message)), highlight=False)
    return typer.Exit(1)


@contextlib.contextmanager
def _failing() -> Iterator[None]:
    """Report a pipeline error as one line on stderr and exit 1, instead of a traceback."""
    try:
        yield
    except PipelineError as exc:
        raise _fail(str(exc)) from None


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@s3_app.command("up")
def s3_up() -> None:
    """Start the embedded object store (reuses a running one)."""
    server = _embedded()
    was_running = server.status().running
    with _failing():
        status = server.up()
    verb = "already running" if was_running else "started"
    console.print(f"SeaweedFS {verb}: {status.endpoint} (pid {status.pid}, data {status.data_dir})")


@s3_app.command("down")
def s3_down() -> None:
    """Stop the embedded object store."""
    stopped = _embedded().down()
    console.print("SeaweedFS stopped" if stopped else "SeaweedFS was not running")


@s3_app.command("status")
def s3_status() -> None:
    """Say whether the embedded object store runs; exit 1 when it does not."""
    status = _embedded().status()
    if not status.running:
        console.print(f"SeaweedFS not running (endpoint {status.endpoint})")
        raise typer.Exit(1)
    console.print(f"SeaweedFS running: {status.endpoint} (pid {status.pid}, data {status.data_dir})")


@s3_app.command("bucket")
def s3_bucket(
    wait: Annotated[float, typer.Option(help="Seconds to keep trying while the store starts up.")] = 0,
) -> None:
    """Create the bucket (NEWS_BUCKET) on the configured endpoint (AWS_ENDPOINT_URL_S3) if it is missing."""
    settings = get_settings()
    deadline = time.monotonic() + wait
    while True:
        try:
            _store_class().from_settings(settings).ensure_bucket()
            break
        except PipelineError as exc:
            if time.monotonic() >= deadline:
                raise _fail(str(exc)) from None
            time.sleep(1)
    console.print(f"bucket {settings.bucket} ready at {settings.s3_endpoint or 'AWS S3'}")


@s3_app.command("keys")
def s3_keys(
    directory: Annotated[Path, typer.Option("--dir", help="The folder `weed -config_dir=...` reads.")],
) -> None:
    """Write a SeaweedFS security.toml (JWT signing keys, gRPC certificates) into a folder unless one is there.

    `news s3 up` does this in NEWS_LOCAL_DIR by itself; docker-compose's SeaweedFS runs it on start."""
    from pipeline.storage.credentials import ensure_server_security

    console.print(f"SeaweedFS security settings: {ensure_server_security(directory)}")


@s3_app.command("env")
def s3_env() -> None:
    """Print `export` lines for boto3, the AWS CLI, DuckDB and Airflow's aws_default connection."""
    settings = get_settings()
    from pipeline.storage.store import S3Config

    server = _embedded()
    config = S3Config.from_settings(settings) if settings.aws_access_key_id else None
    if config is None:
        creds = server.credentials()
        config = S3Config(server.endpoint, creds.access_key_id, creds.secret_access_key, settings.aws_region)
    secret = config.secret_access_key.get_secret_value()
    connection = {
        "conn_type": "aws",
        "login": config.access_key_id,
        "password": secret,
        "extra": {"endpoint_url": config.endpoint_url, "region_name": config.region},
    }
    values = {
        "AWS_ACCESS_KEY_ID": config.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL_S3": config.endpoint_url or "",
        "AWS_REGION": config.region,
        "NEWS_BUCKET": settings.bucket,
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
    }
    for name, value in values.items():
        sys.stdout.write(f"export {name}={shlex.quote(value)}\n")


@sources_app.command("check")
def sources_check(sources: SourcesOption = None) -> None:
    """Validate the sources file, probe each source and show its recorded health; exit 1 if one is down."""
    settings = _settings(sources)
    with _failing():
        from pipeline.sources import load_sources

        registry = load_sources(settings)
    try:
        store: ObjectStore | None = _store_class().from_settings(settings)
    except PipelineError:
        store = None  # no object store configured: probe only
    with _failing():
        from pipeline.fetch import redact
        from pipeline.sources.check import check_sources

        checks = check_sources(settings, registry, store)
    table = Table("id", "kind", "enabled", "location", "probe", "health", "next attempt", title=str(registry.path))
    for check in checks:
        s, state = check.source, check.state
        location = _shown(redact(str(s.url)) if s.url else s.path)
        probe = _shown(check.detail, "green" if check.reachable else "red")
        health = f"{state.health} ({state.consecutive_failures} failures)" if state else "unknown"
        next_attempt = state.next_attempt_at.isoformat() if state and state.next_attempt_at else ""
        table.add_row(_shown(s.id), s.kind.value, "yes" if s.enabled else "no", location, probe, health, next_attempt)
    console.print(table)
    if any(not c.reachable and c.source.enabled for c in checks):
        raise typer.Exit(1)


def _registry_or_empty(path: Path) -> Registry:
    from pipeline.sources import Registry, load_registry

    return load_registry(path) if path.exists() else Registry(path.resolve(), ())


@sources_app.command("import")
def sources_import(
    opml: Annotated[Path, typer.Argument(help="An OPML file, e.g. a feed reader's export.")],
    sources: SourcesOption = None,
    allow_private_network: Annotated[
        bool, typer.Option(help="Mark the new sources as allowed on loopback/private networks.")
    ] = False,
) -> None:
    """Add every feed of an OPML file (folders become tags); feeds the registry has are left out."""
    settings = _settings(sources)
    with _failing():
        from pipeline.sources.additions import add_sources
        from pipeline.sources.opml import plan_import, read_opml

        try:
            data = opml.read_bytes()
        except OSError as exc:
            raise PipelineError(f"cannot read {opml}: {exc.strerror}") from None
        feeds = read_opml(data, str(opml))
        plan = plan_import(feeds, _registry_or_empty(settings.sources_file), allow_private_network)
        if plan.added:
            add_sources(settings.sources_file, plan.added)
    for feed, known in plan.present:
        console.print(_shown(f"already present: {feed.url} (line {feed.line}) as {known!r}"))
    for source in plan.added:
        console.print(
            _shown(f"added {source.id}: {source.url}" + (f" [{', '.join(source.tags)}]" if source.tags else ""))
        )
    console.print(f"{len(plan.added)} added, {len(plan.present)} already present: {settings.sources_file}")


@sources_app.command("export")
def sources_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")] = None,
    sources: SourcesOption = None,
) -> None:
    """Write the registry's feeds as OPML 2.0 (folders by first tag), for FreshRSS, miniflux and others."""
    settings = _settings(sources)
    with _failing():
        from pipeline.sources import load_registry
        from pipeline.sources.opml import write_opml

        data = write_opml(load_registry(settings.sources_file))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.write_bytes(data)
    console.print(_shown(f"wrote {output}"))


def _on_terminal() -> bool:
    """Someone can answer a question: standard input is a terminal."""
    return sys.stdin.isatty()


def _chosen(candidates: list[FeedCandidate], pick: int | None) -> FeedCandidate:
    """The candidate `--pick` names, the only one, or the one asked for on a terminal."""
    listing = "\n".join(
        f"  {n}. {c.url} ({c.kind.value}, {c.items} items, by {c.found_by})" + (f" {c.title}" if c.title else "")
        for n, c in enumerate(candidates, start=1)
    )
    if pick is not None:
        if not 1 <= pick <= len(candidates):
            raise _fail(f"--pick {pick}: choose 1 to {len(candidates)}:\n{listing}")
        return candidates[pick - 1]
    if len(candidates) == 1:
        return candidates[0]
    if not _on_terminal():
        raise _fail(f"{len(candidates)} feeds found; choose one with --pick N:\n{listing}")
    console.print(_shown(listing))
    choice = typer.prompt("Feed to add", type=int, default=1)
    return _chosen(candidates, choice)


@sources_app.command("add")
def sources_add(
    address: Annotated[str, typer.Argument(help="A site's address (or a feed's).")],
    pick: Annotated[
        int | None, typer.Option(help="Add the Nth feed found (needed when several and no terminal).")
    ] = None,
    source_id: Annotated[
        str | None, typer.Option("--id", help="Id of the new source (default: from its title).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the new source (default: the feed's title).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag for the new source (repeatable).")] = None,
    allow_private_network: Annotated[
        bool, typer.Option(help="Allow loopback/private addresses, for discovery and for the new source.")
    ] = False,
    sources: SourcesOption = None,
) -> None:
    """Find a site's feeds, check each is one, and add the chosen one to the registry."""
    settings = _settings(sources)
    with _failing():
        import asyncio

        from pydantic import ValidationError

        from pipeline.fetch import Fetcher, FetchPolicy
        from pipeline.models import Source
        from pipeline.normalise import canonical_url
        from pipeline.sources.additions import add_sources, slug_id, unique_id
        from pipeline.sources.discovery import discover_feeds

        registry = _registry_or_empty(settings.sources_file)

        async def discover() -> list[FeedCandidate]:
            async with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
                return await discover_feeds(fetcher, address, allow_private_network)

        candidates = asyncio.run(discover())
        if not candidates:
            raise PipelineError(f"{address}: no feed found (alternate links, Link header and common paths tried)")
        chosen = _chosen(candidates, pick)
        for known in registry.sources:
            if known.url and canonical_url(str(known.url)) == canonical_url(chosen.url):
                raise PipelineError(f"{chosen.url} is already in the registry as {known.id!r}")
        try:
            source = Source(
                id=source_id or unique_id(slug_id(name or chosen.title, chosen.url), {s.id for s in registry.sources}),
                kind=chosen.kind,
                name=name or chosen.title,
                url=chosen.url,  # validated as HttpUrl
                tags=tag or [],
                allow_private_network=allow_private_network,
            )
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise PipelineError(f"cannot add {chosen.url}: {where}: {exc.errors()[0]['msg']}") from None
        add_sources(settings.sources_file, [source])
    console.print(_shown(f"added {source.id}: {source.url} ({source.kind.value}) to {settings.sources_file}"))


def _store_class() -> type[ObjectStore]:
    from pipeline.storage.store import ObjectStore  # boto3 takes a third of a second: only where it is used

    return ObjectStore


def _store(settings: Settings) -> ObjectStore:
    with _failing():
        return _store_class().from_settings(settings)


def _status(r: SourceReport) -> Text:
    """What a row of zeros means: failed, deferred, backing off, or cached; and pages still to come."""
    if r.error:
        return _shown(r.error, "red")
    if r.deferred:
        return Text("deferred: the fetch budget was spent; fetched first next run", style="yellow")
    if r.not_due_until:
        return _shown(f"not due until {r.not_due_until:%Y-%m-%d %H:%M}Z: {r.not_due_reason or 'backing off'}")
    if r.pages_missing:
        return Text(f"{r.pages_missing} article(s) with feed text, pages fetched in a later run", style="yellow")
    return Text("")


def _quiet(r: SourceReport) -> str | None:
    """The routine rows a big run folds into one line each: nothing new (a 304, an empty inbox), or not due on
    its schedule."""
    if r.error or r.deferred or r.backing_off or r.pages_missing or r.read or r.quarantined or r.raw_keys:
        return None
    return "not due" if r.not_due_until else "nothing new"


def _more(rows: list[SourceReport]) -> Text:
    return Text(f"{len(rows)} more source{'' if len(rows) == 1 else 's'}")


def print_report(report: RunReport, key: str, every_source: bool = False) -> None:
    """The run's table: a row per source with something to say (read, failed, deferred, backing off), and the
    routine rest counted in a line each unless `every_source`."""
    columns = ("not modified", "read", "stored", "duplicates", "quarantined", "filtered")
    table = Table(title=_shown(f"run {report.run_id}"))
    table.add_column("source", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    table.add_column("status")
    folded: dict[str, list[SourceReport]] = {}
    for r in report.sources:
        kind = None if every_source else _quiet(r)
        if kind is not None:
            folded.setdefault(kind, []).append(r)
            continue
        counts = (r.not_modified, r.read, r.stored, r.duplicates, r.quarantined, r.filtered)
        table.add_row(_shown(r.source), *map(str, counts), _status(r))
    if "nothing new" in folded:
        rows = folded["nothing new"]
        not_modified = str(sum(r.not_modified for r in rows))
        table.add_row(_more(rows), not_modified, *"00000", Text("nothing new"))
    if "not due" in folded:
        rows = folded["not due"]
        soonest = min(r.not_due_until for r in rows if r.not_due_until)
        status = f"not due yet, the first at {soonest:%Y-%m-%d %H:%M}Z (--all lists them)"
        table.add_row(_more(rows), *"000000", Text(status))
    totals = (
        report.not_modified,
        report.read,
        report.stored,
        report.duplicates,
        report.quarantined,
        report.filtered,
    )
    summary = [f"failed: {', '.join(report.failed_sources)}"] if report.failed_sources else []
    summary += [f"deferred: {', '.join(report.deferred_sources)}"] if report.deferred_sources else []
    table.add_row(Text("total", style="bold"), *map(str, totals), _shown("; ".join(summary)))
    console.print(table)
    for r in report.sources:
        for article in r.article_keys:
            console.print(Text.assemble("article: ", _shown(article)))
    console.print(Text.assemble("run report: ", _shown(key)))


@app.command()
def ingest(
    sources: SourcesOption = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only this source id (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Reprocess documents even when unchanged.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Fetch and process, but store no article.")] = False,
    since: Annotated[
        date | None,
        typer.Option(
            parser=_day,
            metavar="YYYY-MM-DD",
            help="Backfill: also follow each feed's archive or older pages (RFC 5005) back to this day.",
        ),
    ] = None,
    every_source: EverySourceOption = False,
) -> None:
    """Fetch, normalise, enrich and store every source, then print the run report."""
    settings = _settings(sources)
    run_id = "manual__" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with _failing():
        key, report = stages.ingest(_store(settings), settings, run_id, source, force, dry_run, since)
    print_report(report, key, every_source)
    if report.all_failed:
        raise typer.Exit(1)


@digest_app.command("build")
def digest_build(
    day: Annotated[date, typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="Day to build, YYYY-MM-DD.")],
) -> None:
    """Build and publish the digest of one day."""
    settings = get_settings()
    with _failing():
        keys = stages.publish_daily_digest(_store(settings), settings, day)
    for fmt, key in keys.items():
        console.print(f"{fmt}: {key}")


@digest_app.command("show")
def digest_show(
    day: Annotated[
        date | None,
        typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="Day to show (default: the latest)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="md is rendered for the terminal.")] = Format.md,
) -> None:
    """Print a published digest, with a presigned link to share it."""
    settings = get_settings()
    store = _store(settings)
    with _failing():
        if day is None:
            from pipeline.digest.publish import list_digest_dates

            dates = list_digest_dates(store)
            if not dates:
                raise _fail("no digest published yet: run `news digest build --date YYYY-MM-DD`")
            day = dates[-1]
        key = digest_key(day, fmt.value)
        body = store.get_bytes_or_none(key)
        if body is None:
            raise _fail(f"no digest for {day}: run `news digest build --date {day}`")
        url = store.presigned_url(digest_key(day, "html"))
    err.print(_shown(key, "dim"), highlight=False)
    if fmt is Format.md and console.is_terminal:
        from rich.markdown import Markdown

        console.print(Markdown(body.decode()))
    else:
        sys.stdout.write(body.decode())
    err.print(_shown(f"share (valid 7 days): {url}", "dim"), highlight=False, soft_wrap=True)


@runs_app.command("show")
def runs_show(
    dag_id: Annotated[str, typer.Option("--dag", help="news_ingest, or cli for `news ingest`.")] = "news_ingest",
    every_source: EverySourceOption = False,
) -> None:
    """Print the newest run report of a DAG."""
    store = _store(get_settings())
    keys = list(store.list_keys(runs_prefix(dag_id)))
    if not keys:
        raise _fail(f"no run report under {runs_prefix(dag_id)}")
    # Reports are few per DAG and small; read them all to find the newest by content, not key order.
    from pipeline.models import RunReport

    reports = [(RunReport.model_validate_json(store.get_bytes(k)), k) for k in keys]
    report, key = max(reports, key=lambda rk: rk[0].finished_at)
    print_report(report, key, every_source)


@articles_app.command("list")
def articles_list(
    day: Annotated[date, typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="Day, YYYY-MM-DD.")],
) -> None:
    """List the stored articles of one day: key and title."""
    from pipeline.models import Article

    store = _store(get_settings())
    with _failing():
        for key in store.list_keys(articles_prefix(day)):
            article = Article.model_validate_json(store.get_bytes(key))
            console.print(Text.assemble(_shown(key), "  ", _shown(article.title, "bold")), highlight=False)


@app.command()
def query(sql: Annotated[str, typer.Argument(help='e.g. "select source, count(*) from articles group by 1"')]) -> None:
    """Run SQL with DuckDB over the Parquet lake (table `articles`)."""
    import duckdb

    from pipeline.lake import query_lake
    from pipeline.storage.store import S3Config

    settings = get_settings()
    try:
        columns, rows = query_lake(S3Config.from_settings(settings), settings.bucket, sql)
    except (PipelineError, duckdb.Error, OSError) as exc:
        raise _fail(str(exc)) from None
    table = Table()
    for column in columns:
        table.add_column(_shown(column))
    for row in rows:
        table.add_row(*(_shown("" if v is None else v) for v in row))
    console.print(table)


@app.command()
def replay(
    day: Annotated[
        date,
        typer.Option(
            "--date", parser=_day, metavar="YYYY-MM-DD", help="Fetch day whose raw/ payloads to replay, YYYY-MM-DD."
        ),
    ],
    source: Annotated[list[str] | None, typer.Option("--source", help="Only this source id (repeatable).")] = None,
    every_source: EverySourceOption = False,
) -> None:
    """Rebuild articles from the payloads archived under raw/ on one day."""
    settings = get_settings()
    with _failing():
        key, report = stages.replay(_store(settings), settings, day, source)
    print_report(report, key, every_source)


@app.command()
def reenrich(
    day: Annotated[date, typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="Published day, YYYY-MM-DD.")],
) -> None:
    """Run enrichment again on the stored articles of one day (after an enricher or model upgrade)."""
    settings = get_settings()
    with _failing():
        counts = stages.reenrich(_store(settings), settings, day)
    console.print(f"{day}: read {counts['read']}, re-enriched {counts['changed']}")


@lake_app.command("compact")
def lake_compact(
    day: Annotated[date, typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="Day, YYYY-MM-DD.")],
) -> None:
    """Rewrite one day of the Parquet lake from its articles."""
    with _failing():
        key = stages.compact_lake(_store(get_settings()), day)
    console.print(_shown(key) if key else f"no articles on {day}")


@lake_app.command("retention")
def lake_retention() -> None:
    """Delete raw/ and quarantine/ objects older than NEWS_RAW_RETENTION_DAYS / NEWS_QUARANTINE_RETENTION_DAYS."""
    settings = get_settings()
    with _failing():
        deleted = stages.apply_retention(_store(settings), settings, datetime.now(UTC).date())
    console.print(f"deleted {deleted['raw']} raw and {deleted['quarantine']} quarantine objects")


@rules_app.command("test")
def rules_test(
    sources: SourcesOption = None,
    last: Annotated[int, typer.Option("--last", min=1, help="How many of the newest stored articles to read.")] = 200,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule (by name).")] = None,
) -> None:
    """Show what each rule would keep, drop and tag on the newest stored articles; nothing is written."""
    from pipeline.rules import try_rules
    from pipeline.sources import load_registry
    from pipeline.stages.maintenance import newest_articles

    settings = _settings(sources)
    with _failing():
        registry = load_registry(settings.sources_file)
        articles = newest_articles(_store(settings), last)
    trials, outcome = try_rules(registry.rules, registry.sources, articles)
    if rule is not None:
        trials = [t for t in trials if t.rule.name == rule]
        if not trials:
            raise _fail(f"{settings.sources_file}: no rule named {rule!r}")
    verbs = {"keep": "keeps", "drop": "drops", "tag": "tags"}
    table = Table(title=_shown(f"rules on the newest {outcome['articles']} stored article(s)"))
    for column in ("rule", "scope", "action", "matches", "for example"):
        table.add_column(column, justify="right" if column == "matches" else "left")
    for t in trials:
        action = verbs[t.rule.action.value] + (
            f" {t.rule.tag or t.rule.name!r}" if t.rule.action.value == "tag" else ""
        )
        examples = "\n".join(t.titles)
        table.add_row(_shown(t.rule.name), _shown(t.scope), _shown(action), str(t.matched), _shown(examples))
    console.print(table)
    console.print(
        f"all rules together: {outcome['kept']} kept ({outcome['tagged']} tagged), {outcome['dropped']} dropped"
    )


@app.command()
def schema(
    digest: Annotated[bool, typer.Option("--digest", help="The schema of digest.json instead.")] = False,
) -> None:
    """Print the JSON Schema of the stored Article (or of digest.json)."""
    from pipeline.models import Article, Digest

    model = Digest if digest else Article
    sys.stdout.write(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    app()
