"""Embedded object storage: SeaweedFS `weed mini` from the pinned wheel, on 127.0.0.1 with auth on every port.

S3 takes the keys in `.local/s3-credentials.json`. The master's and filer's HTTP APIs are off (`-disableHttp`:
the master's would hand write tokens to anyone), the volume server's needs a token signed with a key in
`.local/security.toml`, and every gRPC port takes only the client certificate in `.local/s3-tls/`. What still
answers without credentials holds no object, listing or token: health checks, the master's status page (the
topology, read by `up()`) and the volume server's `/status` (its volumes and disk use)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings
from pipeline.storage.credentials import Credentials, ensure_credentials, ensure_server_security

__all__ = [
    "EmbeddedS3",
    "ServerStatus",
]

HOST = "127.0.0.1"
_VOLUME_FILE = re.compile(r"(?:^|_)(\d+)\.dat$")  # `{collection}_{id}.dat` or `{id}.dat`


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    endpoint: str
    data_dir: Path


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedS3:
    """Start, stop and inspect one `weed mini` whose files all live under `local_dir`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.local_dir = settings.local_dir.resolve()
        self.data_dir = self.local_dir / "s3"
        self.pid_file = self.local_dir / "s3.pid"
        self.log_file = self.local_dir / "s3.log"

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.settings.s3_port}"

    @property
    def ports(self) -> dict[str, int]:
        s = self.settings
        # weed also opens each HTTP port + 10000 for gRPC.
        base = {
            "s3": s.s3_port,
            "master": s.s3_master_port,
            "volume": s.s3_volume_port,
            "filer": s.s3_filer_port,
            "admin": s.s3_admin_port,
        }
        return base | {f"{name}.grpc": port + 10000 for name, port in base.items()}

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def status(self) -> ServerStatus:
        pid = self._pid()
        running = pid is not None and _port_answers(self.settings.s3_port)
        return ServerStatus(running, pid, self.endpoint, self.data_dir)

    def credentials(self) -> Credentials:
        return ensure_credentials(self.local_dir)

    def command(self, weed: str) -> list[str]:
        p = self.ports
        return [
            weed,
            f"-config_dir={self.local_dir}",  # security.toml: searched there first (then ., ~/.seaweedfs, /etc)
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-bucket={self.settings.bucket}",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin.grpc']}",
            f"-filer.localSocket={self.local_dir / 'filer.sock'}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=256",
            "-disableHttp",  # the master's and filer's HTTP APIs; S3 reaches both over gRPC
        ]

    def up(self, timeout: float = 30.0) -> ServerStatus:
        """Start the server unless it already runs; return once S3 answers, or raise with the reason."""
        current = self.status()
        if current.running:
            return current
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            raise PipelineError("SeaweedFS binary `weed` not found: install the project (`make install`)")
        taken = [f"{name} {port}" for name, port in self.ports.items() if not _port_free(port)]
        if taken:
            raise PipelineError(
                f"cannot start SeaweedFS: port(s) already in use on {HOST}: {', '.join(taken)} "
                "(another server is running; stop it or set NEWS_S3_*PORT)"
            )
        creds = self.credentials()
        ensure_server_security(self.local_dir)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # also a folder made before the store kept others out
        # WEED_* variables would override security.toml (WEED_JWT_SIGNING_KEY=...): the server gets none.
        env = {name: value for name, value in os.environ.items() if not name.upper().startswith("WEED_")} | {
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key.get_secret_value(),
        }
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.command(weed),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.data_dir,
                start_new_session=True,  # outlives the `news s3 up` that started it
                umask=0o077,  # every file and socket it makes is its owner's alone
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise PipelineError(
                    f"SeaweedFS exited with code {proc.returncode} while starting; last log lines:\n{self._log_tail()}"
                )
            if self._s3_ready(creds) and self._volumes_registered():
                return self.status()
            time.sleep(0.2)
        self.down()
        raise PipelineError(f"SeaweedFS did not answer on {self.endpoint} within {timeout:.0f}s:\n{self._log_tail()}")

    def _s3_ready(self, creds: Credentials) -> bool:
        if not _port_answers(self.settings.s3_port):
            return False
        from pipeline.storage.store import ObjectStore, S3Config  # boto3: only while starting the server

        config = S3Config(self.endpoint, creds.access_key_id, creds.secret_access_key, "us-east-1")
        try:
            return ObjectStore.from_config(config, self.settings.bucket).bucket_exists()
        except PipelineError:
            return False

    def _volumes_registered(self) -> bool:
        """Every volume on disk is known to the master again: before that, reading an object stored before a
        restart fails with InternalError. The master's JSON API is off, so this reads its status page."""
        on_disk = {int(m.group(1)) for p in self.data_dir.rglob("*.dat") if (m := _VOLUME_FILE.search(p.name))}
        if not on_disk:
            return True
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.settings.s3_master_port}/", timeout=2) as r:
                page = r.read().decode("utf-8", "replace")
        except OSError:
            return False
        registered: set[int] = set()
        for cell in _column_cells(page, "Volume Ids"):
            for span in cell.split():  # " 1-3 7": ranges and single ids
                first, _, last = span.partition("-")
                if first.isdigit() and (last or first).isdigit():
                    registered.update(range(int(first), int(last or first) + 1))
        return on_disk <= registered

    def down(self, timeout: float = 15.0) -> bool:
        """Stop the server; return False when none was running."""
        pid = self._pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
            with contextlib.suppress(ChildProcessError):  # reap it when this process is its parent
                os.waitpid(pid, os.WNOHANG)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


class _TableReader(HTMLParser):
    """The text of every table cell of a page, row by row, tables apart."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _column_cells(page: str, heading: str) -> list[str]:
    """The cells under `heading` in the tables of an HTML page whose first row has that heading."""
    reader = _TableReader()
    reader.feed(page)
    cells = []
    for rows in reader.tables:
        if rows and heading in rows[0]:
            column = rows[0].index(heading)
            cells += [row[column] for row in rows[1:] if len(row) > column]
    return cells
