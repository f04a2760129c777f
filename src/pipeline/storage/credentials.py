"""The embedded object store's credentials in `.local/`, created once (mode 0600): the S3 keys every client reads,
and the server's own `security.toml` (JWT signing keys, gRPC certificates) that keeps its other ports closed."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

__all__ = ["Credentials", "ensure_credentials", "ensure_server_security", "read_credentials"]

CREDENTIALS_FILE = "s3-credentials.json"
SECURITY_FILE = "security.toml"
TLS_DIR = "s3-tls"
# Each signs a different kind of token: volume writes and reads (issued by the master), filer writes and reads.
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
# Every part that serves or dials gRPC, in `weed mini` and `weed server -s3`.
GRPC_PARTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
CERTIFICATE_DAYS = 3650


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


def _write_private(path: Path, data: bytes) -> None:
    """Write `path` whole (through a new file renamed over it), readable by its owner only from the start."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def _grpc_certificates() -> tuple[bytes, bytes, bytes]:
    """A CA certificate, and a certificate and key it signed for every part of the server (client and server
    use). The CA's key is thrown away: nobody can issue another certificate the server accepts."""
    from cryptography import x509  # only the first `news s3 up` needs it
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, node_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_subject = "news-pipeline seaweedfs ca"

    def signed(subject: str, key: ec.EllipticCurvePrivateKey, *extensions: x509.ExtensionType) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_subject)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        )
        for extension in extensions:
            builder = builder.add_extension(
                extension, critical=isinstance(extension, x509.BasicConstraints | x509.KeyUsage)
            )
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca = signed(
        ca_subject,
        ca_key,
        x509.BasicConstraints(ca=True, path_length=0),
        x509.KeyUsage(
            digital_signature=False,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        ),
    )
    node = signed(
        "seaweedfs",
        node_key,
        x509.BasicConstraints(ca=False, path_length=None),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        x509.SubjectAlternativeName([x509.DNSName("seaweedfs"), x509.DNSName("localhost")]),
    )
    key = node_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca, node, key


def _toml_string(value: str | Path) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def ensure_server_security(config_dir: Path) -> Path:
    """SeaweedFS's `security.toml` in `config_dir` (what `weed -config_dir` reads), generated on first use.

    JWT signing keys close the volume and filer HTTP APIs (every read and write needs a token only the server
    can sign), and gRPC takes only clients with the certificate in `config_dir/s3-tls/`. Every file is 0600;
    `security.toml` is written last, so its presence means the rest is in place."""
    config_dir = config_dir.resolve()  # weed reads the certificates' paths from the file: absolute ones
    path = config_dir / SECURITY_FILE
    if path.exists():
        return path
    tls = config_dir / TLS_DIR
    tls.mkdir(mode=0o700, parents=True, exist_ok=True)
    tls.chmod(0o700)
    ca, cert, key = tls / "ca.pem", tls / "seaweedfs.pem", tls / "seaweedfs-key.pem"
    for file, data in zip((ca, cert, key), _grpc_certificates(), strict=True):
        _write_private(file, data)
    lines = ["# SeaweedFS security of the embedded store, made by `news s3 up`: private (0600), never commit it."]
    for section in JWT_SECTIONS:
        lines += [f"[{section}]", f"key = {_toml_string(secrets.token_urlsafe(32))}", "expires_after_seconds = 10"]
    lines += ["[access]", "ui = false", "[filer.expose_directory_metadata]", "enabled = false"]
    lines += ["[grpc]", f"ca = {_toml_string(ca)}"]
    for part in GRPC_PARTS:
        lines += [f"[grpc.{part}]", f"cert = {_toml_string(cert)}", f"key = {_toml_string(key)}"]
    _write_private(path, ("\n".join(lines) + "\n").encode())
    return path
