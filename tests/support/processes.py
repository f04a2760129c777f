"""Other processes: scripts in a fresh interpreter (set up for a test's bucket, or killed while storing), and
what processes write to stdout and stderr, captured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
os.environ["NEWS_STORE_CONCURRENCY"] = "1"
from pipeline import stages
from pipeline.stages import store

real, writes = store.write_article, []

def write_then_die(*args, **kwargs):
    written = real(*args, **kwargs)
    writes.append(written)
    if len(writes) == {writes}:
        os.kill(os.getpid(), signal.SIGKILL)
    return written

store.write_article = write_then_die
{run}
"""


@dataclass
class Output:
    text: str = ""  # filled in when the capture ends


@contextmanager
def captured_output() -> Iterator[Output]:
    """Capture, as capfd does, what this process and its children write to stdout and stderr meanwhile."""
    output = Output()
    streams = sys.stdout, sys.stderr
    for stream in streams:
        stream.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        writer = open(sink.fileno(), "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        sys.stdout = sys.stderr = writer
        try:
            yield output
        finally:
            writer.flush()
            sys.stdout, sys.stderr = streams
            for fd, kept in zip((1, 2), saved, strict=True):
                os.dup2(kept, fd)
                os.close(kept)
            writer.close()
            sink.seek(0)
            output.text = sink.read().decode("utf-8", errors="replace")
