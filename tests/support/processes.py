"""Scripts run in a fresh interpreter: configured for a test's bucket, or killed in the middle of storing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from pipeline.settings import Settings
from tests.support.paths import ROOT


def run_script(script: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `script` with this interpreter, in the repository, with this process's environment and `env`."""
    command = [sys.executable, "-c", script]
    environment = os.environ | dict(env or {})
    return subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)


def run_python(settings: Settings, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter configured for the test's bucket, sources file and S3 server."""
    news = {
        "NEWS_BUCKET": settings.bucket,
        "NEWS_SOURCES_FILE": str(settings.sources_file),
        "NEWS_LOCAL_DIR": str(settings.local_dir),
        "NEWS_S3_PORT": str(settings.s3_port),
        "NEWS_INBOX_PREFIX": "",
    }
    return run_script(script, news | env)


def last_json_line(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the script printed last, after checking it exited cleanly."""
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def killed_while_storing(writes: int, run: str) -> str:
    """A script that runs the code `run` with the store stage patched to SIGKILL its own process right after
    `writes` articles are written (one write in flight at a time, so the kill lands exactly there)."""
    return f"""
import os, signal
from pipeline import stages

real, writes = stages.write_article, []

def write_then_die(*args, **kwargs):
    written = real(*args, **kwargs)
    writes.append(written)
    if len(writes) == {writes}:
        os.kill(os.getpid(), signal.SIGKILL)
    return written

stages.write_article = write_then_die
stages.STORE_CONCURRENCY = 1
{run}
"""
