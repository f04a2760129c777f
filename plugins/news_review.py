"""The editor's review of the e-mailed digest (a human-in-the-loop task) and the alert of a late digest run."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DeadlineAlert, DeadlineReference, Param, SyncCallback
from airflow.sdk.definitions.param import ParamsDict
from news_airflow import object_store, send_email
from pydantic import TypeAdapter

from pipeline.review import APPROVE, DROP, REJECT
from pipeline.settings import Settings, get_settings

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["DigestReviewOperator", "alert_late_digest", "email_due", "late_digest_deadline"]

_CHOICES = "choices"  # XCom key: the drop options offered, label -> story id


def email_due(params: Any, triggering_asset_events: Any) -> bool:
    """Whether this run e-mails its digest: the daily run and runs whose form asks, with recipients set."""
    from news_airflow import NEWS_DAY

    # Partitioned runs are all asset-triggered: the daily one is started by a scheduled tick of the news_day clock
    # (a backfill of news_day rebuilds past days, as a backfill of the digest did, without e-mail).
    events = triggering_asset_events or {}
    daily = any(
        str(event.source_run_id or "").startswith("scheduled__")
        for asset in events
        if asset.name == NEWS_DAY.name
        for event in events[asset]
    )
    return bool((params.get("email") or daily) and get_settings().digest_email_to)


class DigestReviewOperator(HITLOperator):
    """Wait for an editor to approve the day's e-mail, drop some of its top stories, or reject it with a note.

    Returns `{"approved", "dropped" (story ids), "note", "by"}`, at once (approved, by nobody) when review is
    off or no e-mail is due.
    """

    template_fields = (*HITLOperator.template_fields, "day")

    def __init__(self, *, day: str, **kwargs: Any) -> None:
        # Airflow hands the DAG's params in too; the form shows only the task's own.
        params = ParamsDict(kwargs.pop("params", None) or {})
        params["note"] = Param(
            "", type="string", title="Note", description="Why it was rejected, or anything to record.", source="task"
        )
        super().__init__(
            subject="Review the digest e-mail",  # the day's title replaces it when the task runs
            options=[APPROVE, REJECT],  # the day's top stories are added when the task runs
            multiple=True,
            params=params,
            # The setting's default: parsing reads no settings; the task sets the configured one when it runs.
            response_timeout=Settings.model_fields["digest_review_timeout"].default,
            **kwargs,
        )
        self.day = day

    def execute(self, context: Context) -> Any:
        from pipeline.digest.publish import load_digest
        from pipeline.stages.digest import review_choices, review_text

        settings = get_settings()
        if not settings.digest_review or not email_due(context["params"], context.get("triggering_asset_events")):
            self.log.info("Nothing to review: review is off (NEWS_DIGEST_REVIEW) or no e-mail is due")
            return {"approved": True, "dropped": [], "note": "not reviewed", "by": ""}
        self.response_timeout = settings.digest_review_timeout
        digest = load_digest(object_store(), date.fromisoformat(self.day))
        if digest is None:
            raise FileNotFoundError(f"no published digest for {self.day}")
        choices = review_choices(digest)
        context["ti"].xcom_push(key=_CHOICES, value=choices)
        self.options = [APPROVE, REJECT, *choices]
        self.subject = f"E-mail the {digest.title}?"
        self.body = review_text(digest, choices)
        return super().execute(context)

    def validate_chosen_options(self, chosen_options: list[str]) -> None:
        # The day's options were offered (and each answer checked against them) by the API; the task as parsed
        # knows only the fixed two.
        if odd := [c for c in chosen_options if c not in (APPROVE, REJECT) and not c.startswith(DROP)]:
            raise ValueError(f"options not offered: {odd}")

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        from pipeline.review import read_review

        answer = super().execute_complete(context, event)
        ti = context["ti"]
        choices = ti.xcom_pull(task_ids=self.task_id, key=_CHOICES, map_indexes=ti.map_index) or {}
        note = str((answer["params_input"] or {}).get("note") or "")
        review = read_review(answer["chosen_options"], choices, note)
        by = answer["responded_by_user"]
        by_name = by.get("name") if isinstance(by, dict) else str(by or "")
        verdict = "approved" if review.approved else "rejected"
        self.log.info("Digest e-mail %s by %s; dropped %s; note: %s", verdict, by_name, review.dropped, note)
        return {"approved": review.approved, "dropped": review.dropped, "note": review.note, "by": by_name}


def alert_late_digest(context: dict[str, Any]) -> None:
    """Deadline callback: log, and e-mail the digest's recipients, that a digest run missed its deadline."""
    import logging

    from pipeline.digest.days import digest_dates

    log = logging.getLogger(__name__)
    run = context.get("dag_run") or {}
    if run.get("run_type") == "backfill":  # rebuilds of past days: late by design
        log.info("Not alerting: %s is a backfill run", run.get("dag_run_id"))
        return
    logical = run.get("logical_date")
    when = datetime.fromisoformat(logical) if logical else None
    chosen = (run.get("conf") or {}).get("date")
    days = ", ".join(d.isoformat() for d in digest_dates(chosen, run.get("partition_key"), when))
    deadline = context.get("deadline", {}).get("deadline_time")
    subject = f"Digest late: {days} not done by {deadline}"
    text = (
        f"The news_digest run {run.get('dag_run_id')} (the digest of {days}) was not finished by its deadline "
        f"{deadline}; its state: {run.get('state')}. The web digest may not be published yet, or its e-mail may "
        "be waiting for an editor (Browse > Required Actions)."
    )
    log.warning("%s", text)
    if get_settings().digest_email_to:
        send_email(subject, f"<p>{text}</p>", context)


def late_digest_deadline(after: str | None) -> DeadlineAlert | None:
    """The DAG's deadline: `after` (ISO 8601 duration such as PT2H, or seconds) past the time a run was queued.

    Every run is partitioned and asset-triggered, so none has a logical date; the daily one is queued when the
    news_day clock ticks (NEWS_DIGEST_CRON), so its deadline is a time of day. Runs for a day news_ingest
    touched are late by the same measure.
    """
    if not after:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=TypeAdapter(timedelta).validate_python(after),
        callback=SyncCallback(alert_late_digest),
        name="digest_late",
    )
