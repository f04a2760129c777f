"""The embedded object store takes nothing without credentials: S3 needs its keys, the volume server a token
signed with a key of `security.toml`, the master's and filer's HTTP APIs are off, and gRPC needs the client
certificate. Shown with a real object stored through S3, against the real `weed mini`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import ssl
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.seaweed import EmbeddedS3
from pipeline.storage.store import ObjectStore
from tests.support.s3 import embedded_settings

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # + empty SETTINGS
KNOWN_KEY = "a key an attacker chose"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    server = EmbeddedS3(embedded_settings(tmp_path_factory.mktemp("store") / "local"))
    server.data_dir.mkdir(parents=True)
    server.data_dir.chmod(0o755)  # as made before the store closed it
    with pytest.MonkeyPatch.context() as env:
        # SeaweedFS lets WEED_* variables override security.toml: one in the caller's environment must not count.
        env.setenv("WEED_JWT_SIGNING_READ_KEY", KNOWN_KEY)
        server.up()
    ObjectStore.from_settings(server.settings).ensure_bucket()
    yield server
    server.down()


def _file_id(data_dir: Path, content: bytes) -> str:
    """The volume file id (`volume,needle-id+cookie`) under which `content` is stored, read from the volume
    files: a needle is a header (cookie, id, size: 4 + 8 + 4 bytes) and the data's size before its data."""
    for dat in data_dir.rglob("*.dat"):
        raw = dat.read_bytes()
        at = raw.find(content)
        if at >= 20 and int.from_bytes(raw[at - 4 : at]) == len(content):
            header = raw[at - 20 : at - 4]
            volume = re.search(r"(\d+)\.dat$", dat.name)
            assert volume
            return f"{volume.group(1)},{int.from_bytes(header[4:12]):x}{header[0:4].hex()}"
    raise AssertionError("content not found in any volume file")


def _token(key: str, claims: dict[str, str]) -> str:
    """An HS256 JSON Web Token, as SeaweedFS signs them."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = encode(b'{"alg":"HS256","typ":"JWT"}') + "." + encode(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + encode(signature)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_volume_server_serves_an_object_only_with_a_token_signed_by_the_server(server: EmbeddedS3) -> None:
    store = ObjectStore.from_settings(server.settings)
    content = secrets.token_bytes(48)  # random: stored as it is, not compressed
    store.put_bytes("secret/report.bin", content)
    fid = _file_id(server.data_dir, content)
    keys = tomllib.loads((server.local_dir / "security.toml").read_text())["jwt"]
    volume = f"http://127.0.0.1:{server.settings.s3_volume_port}/{fid}"

    # The file id is right: with a read token signed by the server's key, the volume server returns the object.
    signed = httpx.get(
        volume, headers={"Authorization": f"Bearer {_token(keys['signing']['read']['key'], {'fid': fid})}"}
    )
    assert (signed.status_code, signed.content) == (200, content)

    refused = [
        httpx.get(volume),
        httpx.get(volume, params={"jwt": "not-a-token"}),
        httpx.get(volume, headers={"Authorization": f"Bearer {_token(KNOWN_KEY, {'fid': fid})}"}),
        httpx.get(volume, headers={"Authorization": f"Bearer {_token(secrets.token_urlsafe(32), {'fid': fid})}"}),
        httpx.post(volume, files={"file": ("x", b"overwritten")}),
        httpx.put(volume, content=b"overwritten"),
        httpx.delete(volume),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert all(content not in r.content for r in refused)
    assert store.get_bytes("secret/report.bin") == content


def test_master_and_filer_http_give_no_object_listing_token_or_write(server: EmbeddedS3) -> None:
    store = ObjectStore.from_settings(server.settings)
    content = secrets.token_bytes(48)
    store.put_bytes("private/report.bin", content)
    fid = _file_id(server.data_dir, content)
    master = f"http://127.0.0.1:{server.settings.s3_master_port}"
    filer = f"http://127.0.0.1:{server.settings.s3_filer_port}"
    bucket = f"{filer}/buckets/{server.settings.bucket}"

    answers = {
        "assign a write token": httpx.get(f"{master}/dir/assign"),
        "look up a read token": httpx.get(f"{master}/dir/lookup", params={"fileId": fid}),
        "topology": httpx.get(f"{master}/dir/status"),
        "delete the collection": httpx.get(f"{master}/col/delete", params={"collection": server.settings.bucket}),
        "grow volumes": httpx.get(f"{master}/vol/grow", params={"count": "1"}),
        "redirect to the file": httpx.get(f"{master}/{fid}"),
        "read through the filer": httpx.get(f"{bucket}/private/report.bin"),
        "list through the filer": httpx.get(f"{bucket}/private/", headers={"Accept": "application/json"}),
        "list the filer's root": httpx.get(f"{filer}/"),
        "write through the filer": httpx.put(f"{bucket}/private/planted.txt", content=b"planted"),
        "post through the filer": httpx.post(f"{bucket}/private/", files={"file": ("planted2.txt", b"planted")}),
        "delete through the filer": httpx.delete(f"{bucket}/private/report.bin"),
    }
    assert {what: r.status_code for what, r in answers.items()} == dict.fromkeys(answers, 404)
    assert all("authorization" not in r.headers and b"report" not in r.content for r in answers.values())
    assert list(store.list_keys("private/")) == ["private/report.bin"]
    assert store.get_bytes("private/report.bin") == content
    # What still answers anyone: status pages, with the topology and disk use, never an object or its name.
    volume = f"http://127.0.0.1:{server.settings.s3_volume_port}"
    for page in (httpx.get(f"{master}/"), httpx.get(f"{volume}/status")):
        assert page.status_code == 200 and b"report" not in page.content and content not in page.content


def _grpc_reply(port: int, context: ssl.SSLContext | None) -> bytes:
    """What a gRPC port answers to an HTTP/2 preface, plain or over TLS."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        conn = context.wrap_socket(raw) if context else raw
        conn.sendall(HTTP2_PREFACE)
        try:
            return conn.recv(64)
        except ConnectionResetError:
            return b""


def test_grpc_takes_only_the_servers_client_certificate(server: EmbeddedS3) -> None:
    tls = server.local_dir / "s3-tls"
    context = ssl.create_default_context(cafile=tls / "ca.pem")
    context.check_hostname = False  # SeaweedFS checks the certificate's chain, not a host name
    context.set_alpn_protocols(["h2"])
    with_certificate = ssl.create_default_context(cafile=tls / "ca.pem")
    with_certificate.check_hostname = False
    with_certificate.set_alpn_protocols(["h2"])
    with_certificate.load_cert_chain(tls / "seaweedfs.pem", tls / "seaweedfs-key.pem")
    for part in ("master", "volume", "filer", "s3", "admin"):
        port = server.ports[f"{part}.grpc"]
        assert _grpc_reply(port, None) == b"", f"{part}: plain HTTP/2 is not answered"
        with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
            _grpc_reply(port, context)
        assert _grpc_reply(port, with_certificate)[3:4] == b"\x04", f"{part}: the SETTINGS frame, with the certificate"


def test_keys_and_data_are_the_owners_alone(server: EmbeddedS3) -> None:
    local = server.local_dir
    assert _mode(server.data_dir) == 0o700
    assert _mode(local / "s3-tls") == 0o700
    private = [local / "s3-credentials.json", local / "security.toml", *(local / "s3-tls").iterdir()]
    assert len(private) == 5
    assert {p.name: _mode(p) for p in private} == {p.name: 0o600 for p in private}
    config = tomllib.loads((local / "security.toml").read_text())
    assert all(len(config["jwt"][s]["key"]) >= 40 for s in ("signing", "filer_signing"))
    assert all(len(config["jwt"][s]["read"]["key"]) >= 40 for s in ("signing", "filer_signing"))
