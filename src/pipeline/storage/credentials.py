"""The embedded object store's credentials in `.local/`: created once (mode 0600), read by every client."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

__all__ = ["Credentials", "ensure_credentials", "read_credentials"]

CREDENTIALS_FILE = "s3-credentials.json"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: SecretStr


def read_credentials(local_dir: Path) -> Credentials | None:
    """Return the embedded server's credentials, or None before the first `news s3 up`."""
    path = local_dir / CREDENTIALS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Credentials(data["access_key_id"], SecretStr(data["secret_access_key"]))


def ensure_credentials(local_dir: Path) -> Credentials:
    """The credentials, generated on first use."""
    existing = read_credentials(local_dir)
    if existing:
        return existing
    local_dir.mkdir(parents=True, exist_ok=True)
    creds = {"access_key_id": "news-" + secrets.token_hex(8), "secret_access_key": secrets.token_urlsafe(30)}
    path = local_dir / CREDENTIALS_FILE
    # Create with 0600 from the start so the secret is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f)
    return Credentials(creds["access_key_id"], SecretStr(creds["secret_access_key"]))
