"""A WebSub hub of the tests' own, on a loopback address: it takes subscription requests, verifies intent by
calling the subscriber's callback, and pushes content signed, unsigned or wrongly signed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str
    lease_seconds: int
    verified: bool = False
    challenge_answer: str | None = None  # what the callback answered the last verification with


class Hub:
    def __init__(self, host: str = "127.0.0.3", lease_seconds: int = 3600) -> None:
        self.host, self.lease_seconds = host, lease_seconds
        self.subscriptions: dict[str, HubSubscription] = {}  # by topic
        self.requests: list[dict[str, str]] = []  # every subscription request, as sent
        self.verified = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                hub.requests.append(form)
                ok = form.get("hub.mode") == "subscribe" and form.get("hub.topic") and form.get("hub.callback")
                self.send_response(202 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if ok:  # verification after the answer, as a hub does it: asynchronously
                    threading.Thread(target=hub._verify, args=(form,), daemon=True).start()

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def _verify(self, form: dict[str, str]) -> None:
        lease = min(int(form.get("hub.lease_seconds") or self.lease_seconds), self.lease_seconds)
        subscription = HubSubscription(form["hub.topic"], form["hub.callback"], form.get("hub.secret", ""), lease)
        answer = self.ask(subscription.callback, "subscribe", subscription.topic, lease)
        subscription.verified = answer is not None
        subscription.challenge_answer = answer
        self.subscriptions[subscription.topic] = subscription
        if subscription.verified:
            self.verified.set()

    def ask(self, callback: str, mode: str, topic: str, lease: int | None = None) -> str | None:
        """Verify intent at `callback`: the challenge when echoed back with a 2xx, else None."""
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if lease is not None:
            params["hub.lease_seconds"] = str(lease)
        response = httpx.get(callback, params=params, timeout=10, trust_env=False)
        return response.text if response.is_success and response.text == challenge else None

    def deny(self, callback: str, topic: str, reason: str) -> int:
        params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
        return httpx.get(callback, params=params, timeout=10, trust_env=False).status_code

    def push(self, topic: str, body: bytes, content_type: str, signing: str = "sha256") -> int:
        """POST `body` to the topic's verified subscriber; `signing` is a hash name, "none" or "wrong"."""
        subscription = self.subscriptions[topic]
        assert subscription.verified, "the hub pushes only to verified subscriptions"
        headers = {"Content-Type": content_type}
        if signing == "wrong":
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(b"not the secret", body, hashlib.sha256).hexdigest()
        elif signing != "none":
            digest = hmac.new(subscription.secret.encode(), body, signing).hexdigest()
            headers["X-Hub-Signature"] = f"{signing}={digest}"
        return httpx.post(subscription.callback, content=body, headers=headers, timeout=10, trust_env=False).status_code

    def __enter__(self) -> Hub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
