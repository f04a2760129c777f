"""Real receivers on loopback for what the pipeline sends: an SMTP server and a webhook that checks signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import HOST, free_ports


class Inbox:
    """The messages an SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """An SMTP server on a free loopback port: its inbox, and the Airflow connection (JSON form) that reaches it."""
    inbox = Inbox()
    [port] = free_ports(1)
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    connection = {"conn_type": "smtp", "host": HOST, "port": port, "extra": {"disable_ssl": True, "disable_tls": True}}
    try:
        yield inbox, connection
    finally:
        controller.stop()


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature header is the HMAC-SHA256 of the body under the receiver's secret

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """What a webhook received; it answers `failures` requests with 500 first, then 204."""

    secret: str
    url: str = ""
    failures: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_receiver(secret: str, header: str = "X-News-Signature") -> Iterator[WebhookReceiver]:
    """A webhook on a free loopback port that records each POST and whether `header` signs it with `secret`."""
    receiver = WebhookReceiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(self.headers.get(header, ""), expected)
            with receiver.lock:
                failing = receiver.failures > 0
                receiver.failures -= failing
                if not failing:
                    receiver.deliveries.append(Delivery(dict(self.headers.items()), body, signed))
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output to what fails

    [port] = free_ports(1)
    server = ThreadingHTTPServer((HOST, port), Handler)
    receiver.url = f"http://{HOST}:{port}/hooks/news"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
