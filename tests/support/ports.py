"""Free loopback ports, and settings that put a private SeaweedFS on them (tests and benchmarks)."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings

HOST = "127.0.0.1"


def _bindable(port: int) -> bool:
    try:
        socket.create_server((HOST, port)).close()  # sets SO_REUSEADDR: a port left in TIME_WAIT counts as free
    except OSError:
        return False
    return True


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports whose gRPC companions (port + 10000, as weed opens) are free too."""
    chosen: set[int] = set()
    for _ in range(1000):
        port = secrets.randbelow(10000) + 20000  # companions land in 30000-39999, clear of every base port
        if port not in chosen and _bindable(port) and _bindable(port + 10000):
            chosen.add(port)
            if len(chosen) == count:
                return sorted(chosen)
    raise PipelineError("no free loopback ports for SeaweedFS")


def on_free_ports(settings: Settings, local_dir: Path) -> Settings:
    """A copy of `settings` for a private server: its own data folder and free ports."""
    s3, master, volume, filer, admin = free_ports(5)
    return settings.model_copy(
        update={
            "local_dir": local_dir,
            "s3_port": s3,
            "s3_master_port": master,
            "s3_volume_port": volume,
            "s3_filer_port": filer,
            "s3_admin_port": admin,
            "s3_endpoint": None,
            "aws_access_key_id": None,
            "aws_secret_access_key": None,
        }
    )
