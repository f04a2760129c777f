"""Reading what the SMTP receiver (tests.support.receivers) got."""

from __future__ import annotations

from email.message import EmailMessage

from tests.support.receivers import Inbox


def html_of(message: EmailMessage) -> str:
    """The text/html part of `message`."""
    return str(next(part for part in message.walk() if part.get_content_type() == "text/html").get_content())


def with_subject(inbox: Inbox, start: str) -> list[EmailMessage]:
    """The messages whose subject starts with `start`, oldest first."""
    return [m for m in inbox.messages if str(m["Subject"]).startswith(start)]
