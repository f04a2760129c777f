"""Airflow notifiers of watchlist alerts: e-mail through the SMTP provider, and a signed JSON webhook.

The webhook's body is signed with HMAC-SHA256 under the password of its Airflow connection; the signature is in
the `X-News-Signature: sha256=<hex>` header, so a receiver checks that the alert came from this pipeline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook, BaseNotifier

from pipeline.settings import get_settings

if TYPE_CHECKING:
    from pipeline.watchlists import Alert, Channel

__all__ = ["SIGNATURE_HEADER", "WebhookNotifier", "digest_url", "notify_alert", "sign_body"]

SIGNATURE_HEADER = "X-News-Signature"
ALERT_HEADER = "X-News-Alert"  # watchlist/story/number: the same on a resend, so a receiver can drop repeats
WEBHOOK_TIMEOUT = 10.0  # seconds for the whole request
DEFAULT_API_URL = "http://localhost:8080"


def sign_body(secret: str, body: bytes) -> str:
    """The signature header's value of `body`: `sha256=` and the hex HMAC-SHA256 under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier(BaseNotifier):
    """POST `payload` as JSON to the URL of connection `conn_id`, signed with its password.

    The connection's host is the whole URL (`https://hooks.example.org/news`), or a host name with its
    schema and port; its password is the signing secret. Redirects are not followed; any answer but 2xx fails.
    """

    template_fields = ()  # alert text comes from feeds: never render it as a Jinja template

    def __init__(self, conn_id: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.payload = payload
        self.headers = headers or {}

    def notify(self, context: Any) -> None:
        import httpx

        connection = BaseHook.get_connection(self.conn_id)
        if not connection.host or not connection.password:
            raise ValueError(f"connection {self.conn_id!r} needs a host (the URL) and a password (the secret)")
        url = connection.host
        if "://" not in url:
            port = f":{connection.port}" if connection.port else ""
            url = f"{connection.schema or 'https'}://{url}{port}"
        body = json.dumps(self.payload, ensure_ascii=False, sort_keys=True).encode()
        headers = self.headers | {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_body(connection.password, body),
        }
        response = httpx.post(url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
        if not response.is_success:
            raise RuntimeError(f"webhook {self.conn_id!r} answered {response.status_code}")


def digest_url() -> str:
    """Where alerts link a day's digest: NEWS_DIGEST_URL, else the digest page of this Airflow's UI."""
    from airflow.sdk.configuration import conf

    base = conf.get("api", "base_url", fallback=None) or DEFAULT_API_URL
    return get_settings().digest_url or f"{base.rstrip('/')}/news-digests/{{date}}"


def notify_alert(alert: Alert, channel: Channel, context: Any) -> None:
    """Send one alert on one channel: e-mail to the watchlist's recipients, or its webhook."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from pipeline.stages.alerts import alert_message, alert_payload

    settings = get_settings()
    if channel == "email":
        subject, html = alert_message(alert)
        # notify(), not notifier(context): calling it would render feed text as a Jinja template.
        SmtpNotifier(
            to=alert.email,
            from_email=settings.alerts_from or settings.digest_email_from,
            subject=subject,
            html_content=html,
            smtp_conn_id=settings.smtp_conn_id,
        ).notify(context)
    elif alert.webhook:
        alert_id = f"{alert.watchlist}/{alert.story_id}/{alert.number}"
        WebhookNotifier(alert.webhook, alert_payload(alert), {ALERT_HEADER: alert_id}).notify(context)
