"""The embedded store's security.toml: made once, private, with distinct keys and a certificate its CA signed."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from pipeline import cli
from pipeline.storage.credentials import ensure_server_security


def test_security_settings_are_private_complete_and_made_once(tmp_path: Path) -> None:
    path = ensure_server_security(tmp_path / "local")
    config = tomllib.loads(path.read_text())
    keys = [config["jwt"]["signing"]["key"], config["jwt"]["signing"]["read"]["key"]]
    keys += [config["jwt"]["filer_signing"]["key"], config["jwt"]["filer_signing"]["read"]["key"]]
    assert len(set(keys)) == 4 and all(len(k) >= 40 for k in keys)
    assert config["access"]["ui"] is False and config["filer"]["expose_directory_metadata"]["enabled"] is False

    tls = tmp_path / "local" / "s3-tls"
    assert stat.S_IMODE(tls.stat().st_mode) == 0o700
    files = [path, *tls.iterdir()]
    assert sorted(p.name for p in files) == ["ca.pem", "seaweedfs-key.pem", "seaweedfs.pem", "security.toml"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}

    # Every part serves and dials gRPC with one certificate, signed by the CA the file names.
    assert Path(config["grpc"]["ca"]) == tls / "ca.pem"
    for part in ("master", "volume", "filer", "s3", "admin", "worker", "client"):
        assert (config["grpc"][part]["cert"], config["grpc"][part]["key"]) == (
            str(tls / "seaweedfs.pem"),
            str(tls / "seaweedfs-key.pem"),
        )
    ca = x509.load_pem_x509_certificate((tls / "ca.pem").read_bytes())
    node = x509.load_pem_x509_certificate((tls / "seaweedfs.pem").read_bytes())
    node.verify_directly_issued_by(ca)
    usages = set(node.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not list(tmp_path.rglob("*.tmp"))

    before = {p: p.read_bytes() for p in files}
    assert ensure_server_security(tmp_path / "local") == path
    assert {p: p.read_bytes() for p in files} == before


def test_news_s3_keys_writes_them_where_compose_mounts_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, ["s3", "keys", "--dir", str(tmp_path / "etc")])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "etc" / "security.toml") in result.output.replace("\n", "")
    assert (tmp_path / "etc" / "s3-tls" / "seaweedfs-key.pem").is_file()
