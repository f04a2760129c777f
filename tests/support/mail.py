"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and the Airflow connection to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_ports


class Inbox:
    """What the server received, oldest first."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.connection = ""  # the server as an AIRFLOW_CONN_* variable wants it

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def with_subject(self, start: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["Subject"]).startswith(start)]


def html_of(message: EmailMessage) -> str:
    """The text/html part of `message`."""
    return str(next(part for part in message.walk() if part.get_content_type() == "text/html").get_content())


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """A running server (plain SMTP, no TLS), and what it receives."""
    inbox = Inbox()
    [port] = free_ports(1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True},
    }
    try:
        inbox.connection = json.dumps(connection)
        yield inbox
    finally:
        controller.stop()
