"""Helpers for the reliability suite: feed sources on the test's feed server, and the accounting check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.models import RunReport, StageResult
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.support.feedserver import FeedServer


def register_feeds(settings: Settings, server: FeedServer, paths: dict[str, str]) -> None:
    """Write the test's sources file: source id -> path on the feed server (kind from the extension)."""
    entries = [
        f'[[sources]]\nid = "{source_id}"\nkind = "{"jsonfeed" if path.endswith(".json") else "feed"}"\n'
        f'url = "{server.url(path)}"\nallow_private_network = true\n'
        for source_id, path in paths.items()
    ]
    settings.sources_file.write_text("\n".join(entries))


def accounted(report: RunReport) -> dict[str, StageResult]:
    """Every item read is stored, a duplicate or quarantined: per source, and for the run."""
    for result in report.sources:
        assert result.read == result.stored + result.duplicates + result.quarantined, result
    assert report.read == report.stored + report.duplicates + report.quarantined
    return {r.source: r for r in report.sources}


def stored_once(store: ObjectStore) -> Counter[str]:
    """Article ids under articles/, with how many keys each has (must be exactly one)."""
    ids = Counter(key.rsplit("/", 1)[1] for key in store.list_keys("articles/"))
    assert all(n == 1 for n in ids.values()), ids
    return ids


ROOT = Path(__file__).resolve().parents[2]


def run_python(settings: Settings, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter configured for the test's bucket, sources file and S3 server."""
    environment = (
        os.environ
        | {
            "NEWS_BUCKET": settings.bucket,
            "NEWS_SOURCES_FILE": str(settings.sources_file),
            "NEWS_LOCAL_DIR": str(settings.local_dir),
            "NEWS_S3_PORT": str(settings.s3_port),
            "NEWS_INBOX_PREFIX": "",
        }
        | env
    )
    command = [sys.executable, "-c", script]
    return subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)


def last_json_line(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the script printed last, after checking it exited cleanly."""
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome
