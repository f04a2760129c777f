"""The multi-node deployment of docker/docker-compose.yaml on one machine, service for service, without containers.

    python docker/news_cluster.py up [--dir DIR] [--workers fetch,enrich | all] [--failover SECONDS]
    python docker/news_cluster.py down [--dir DIR]
    python docker/news_cluster.py env [--dir DIR]     # shell exports for the airflow and news CLIs
    python docker/news_cluster.py guard [--dir DIR]   # `down` once its stdin closes: its starter ended, however

PostgreSQL (metadata DB) and Redis (Celery broker) from Debian's packages, run as an unprivileged system user; a
SeaweedFS cluster from the pinned `weed` (one master, volume servers holding every object twice, replication
`001`, a filer and the S3 gateway) with the same security.toml as the embedded store; Airflow's api-server,
scheduler, dag-processor, triggerer and Celery workers with their own names and queues. Everything listens on
127.0.0.1 on ports chosen once and kept in DIR/cluster.json; passwords are generated into DIR/.env (mode 0600),
which has the names of docker/.env. Each process runs in its own session and is ended through its pid file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["WORKERS", "Cluster", "node_name"]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's: airflow, weed
HOST = "127.0.0.1"
SERVICE_USER = "news-cluster"  # owns the database's and the broker's files when started as root
BUCKET = "news"
FETCH_POOL_SLOTS = 4
VOLUME_SERVERS = 3  # replication 001 keeps two copies: with one server lost, two still take new writes
# Celery workers: name -> (queues, processes). The I/O-bound fetch tasks on one, the CPU-bound enrichment on
# the other; the enrich worker takes fetch work too, so losing the fetch worker only slows a run down.
WORKERS: dict[str, tuple[str, int]] = {"fetch": ("fetch,default", 4), "enrich": ("enrich,default,fetch", 2)}
ONE_WORKER: dict[str, tuple[str, int]] = {"all": ("fetch,enrich,default", 4)}
# Seconds without a heartbeat before a running task counts as lost (its worker gone) and is retried; a task
# queued on a lost worker is put back after four times that. Tasks heartbeat every 5 s.
FAILOVER_S = 60
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
# The variables of docker/.env: secrets generated here, the rest fixed.
SECRETS = (
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def node_name() -> str:
    """The name a task instance records as its hostname: the Celery worker's (`[core] hostname_callable`)."""
    return os.environ.get("CLUSTER_NODE_NAME") or socket.getfqdn()


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    return found[-1].parent


def _free_port() -> int:
    """A free loopback port whose gRPC companion (+10000, as weed opens) is free too."""
    for _ in range(1000):
        port = secrets.randbelow(10000) + 20000
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise SystemExit("no free loopback ports")


def _bindable(port: int) -> bool:
    try:
        socket.create_server((HOST, port)).close()
    except OSError:
        return False
    return True


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _alive(pid: int) -> bool:
    """`pid` runs (an exited child of ours is reaped; a zombie left to init counts as gone)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _session(sid: int) -> list[int]:
    """Every process of session `sid`: Airflow's task processes have process groups of their own."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session
            if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
                members.append(int(stat.parent.name))
    return members


def _kill_session(sid: int) -> None:
    for pid in _session(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    return {name: value for name, value in pairs}


class Cluster:
    """Start, stop and describe the processes of one cluster whose files all live under `home`."""

    def __init__(
        self, home: Path, workers: dict[str, tuple[str, int]] | None = None, failover: int | None = None
    ) -> None:
        self.home = home.resolve()
        self.run_dir = self.home / "run"  # pid files and logs
        self.state = self.home / "cluster.json"
        self.env_file = self.home / ".env"
        self.workers = workers if workers is not None else WORKERS
        self.root = os.geteuid() == 0
        self._failover = failover  # None: the one chosen when the cluster was first prepared

    # -- settings ----------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Choose ports and generate passwords once; later starts reuse them."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o711)  # the service user reaches its own folders; nobody lists or reads the rest
        self.run_dir.mkdir(exist_ok=True)
        if not self.state.exists():
            names = ["postgres", "redis", "master", "filer", "s3", "api", *self._volumes()]
            ports: dict[str, int] = {}
            while len(ports) < len(names):
                port = _free_port()
                if port not in ports.values():
                    ports[names[len(ports)]] = port
            self._save({"ports": ports, "failover_s": FAILOVER_S})
        if self._failover is not None and self._failover != self.failover:
            self._save(json.loads(self.state.read_text()) | {"failover_s": self._failover})
        if not self.env_file.exists():
            from cryptography.fernet import Fernet

            values = {name: secrets.token_hex(24) for name in SECRETS}
            values["AIRFLOW_FERNET_KEY"] = Fernet.generate_key().decode()
            values["AWS_ACCESS_KEY_ID"] = "news-" + secrets.token_hex(8)
            values |= {
                "AWS_ENDPOINT_URL_S3": f"http://{HOST}:{self.ports['s3']}",
                "AWS_REGION": "us-east-1",
                "NEWS_BUCKET": BUCKET,
                "AIRFLOW_UI_PORT": str(self.ports["api"]),
            }
            lines = ["# The cluster's settings, names as in docker/.env: generated, private, never commit it."]
            _write_private(self.env_file, "\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")

    @property
    def ports(self) -> dict[str, int]:
        ports: dict[str, int] = json.loads(self.state.read_text())["ports"]
        return ports

    @property
    def failover(self) -> int:
        return int(json.loads(self.state.read_text()).get("failover_s", FAILOVER_S))

    def _save(self, state: dict[str, Any]) -> None:
        self.state.write_text(json.dumps(state, indent=2) + "\n")

    @property
    def settings(self) -> dict[str, str]:
        return _read_env(self.env_file)

    def _volumes(self) -> list[str]:
        return [f"volume-{n}" for n in range(1, VOLUME_SERVERS + 1)]

    def compose_environment(self) -> dict[str, str]:
        """What every Airflow process gets, by the names of docker-compose.yaml's x-airflow environment."""
        s, p, lost = self.settings, self.ports, self.failover
        db = f"airflow:{s['POSTGRES_PASSWORD']}@{HOST}:{p['postgres']}/airflow"
        api = f"http://{HOST}:{p['api']}"
        connection = {
            "conn_type": "aws",
            "login": s["AWS_ACCESS_KEY_ID"],
            "password": s["AWS_SECRET_ACCESS_KEY"],
            "extra": {"endpoint_url": s["AWS_ENDPOINT_URL_S3"], "region_name": s["AWS_REGION"]},
        }
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": s["AIRFLOW_FERNET_KEY"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "airflow" / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://:{s['REDIS_PASSWORD']}@{HOST}:{p['redis']}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{db}",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(lost),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(max(lost // 6, 2)),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(4 * lost),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": str(max(lost // 2, 5)),
            "AIRFLOW__API_AUTH__JWT_SECRET": s["AIRFLOW_JWT_SECRET"],
            "AIRFLOW__API__SECRET_KEY": s["AIRFLOW_API_SECRET_KEY"],
            "AWS_ENDPOINT_URL_S3": s["AWS_ENDPOINT_URL_S3"],
            "AWS_ACCESS_KEY_ID": s["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": s["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": s["AWS_REGION"],
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
            "NEWS_BUCKET": s["NEWS_BUCKET"],
        }

    def airflow_environment(self) -> dict[str, str]:
        """The compose environment, and what differs on one machine: paths, the api-server's address, the names
        task instances record (in containers, each worker's own hostname)."""
        api = f"http://{HOST}:{self.ports['api']}"
        return self.compose_environment() | {
            "AIRFLOW_HOME": str(self.home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(self.ports["api"]),
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "news_cluster.node_name",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "docker"), os.environ.get("PYTHONPATH")])),
        }

    # -- processes ---------------------------------------------------------------------------------------------
    def pid(self, name: str) -> int | None:
        try:
            pid = int((self.run_dir / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def names(self) -> list[str]:
        """Every long-running process, in the order they start."""
        weed = ["seaweedfs-master", *(f"seaweedfs-{v}" for v in self._volumes()), "seaweedfs-filer", "seaweedfs-s3"]
        workers = [f"airflow-worker-{w}" for w in WORKERS | ONE_WORKER]
        return ["postgres", "redis", *weed, *AIRFLOW_SERVICES, *workers]

    def _spawn(self, name: str, command: list[str], env: dict[str, str], user: str | None = None) -> None:
        if self.pid(name):
            return
        log = (self.run_dir / f"{name}.log").open("ab")
        # WEED_* would override security.toml, AIRFLOW* and AWS_* are a developer's own; NEWS_* settings pass.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("WEED_", "AIRFLOW", "AWS_"))}
        process = subprocess.Popen(
            command,
            env=base | env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.home,
            start_new_session=True,
            user=user,
            umask=0o077,
        )
        (self.run_dir / f"{name}.pid").write_text(str(process.pid))

    def _wait(self, name: str, ready: Any, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.pid(name) is None:
                raise SystemExit(f"{name} exited while starting:\n{self.log_tail(name)}")
            time.sleep(0.3)
        raise SystemExit(f"{name} did not become ready within {timeout:.0f}s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 25) -> str:
        path = self.run_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"

    def _service_user(self) -> str | None:
        """The unprivileged owner of the database and broker (initdb refuses root); None when not root."""
        if not self.root:
            return None
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--home-dir",
                    "/nonexistent",
                    SERVICE_USER,
                ],
                check=True,
            )
        self._check_reachable(SERVICE_USER)
        return SERVICE_USER

    def _check_reachable(self, user: str) -> None:
        uid = pwd.getpwnam(user).pw_uid
        closed = [p for p in self.home.parents if not p.stat().st_mode & 0o001 and p.stat().st_uid != uid]
        if closed:
            raise SystemExit(f"{user} cannot reach {self.home}: {closed[0]} is closed to others (chmod o+x, or --dir)")

    def _owned_dir(self, path: Path, user: str | None) -> Path:
        path.mkdir(mode=0o700, exist_ok=True)
        if user:
            shutil.chown(path, user, user)
        return path

    def start_postgres(self) -> None:
        user, pg, port = self._service_user(), _postgres_bin(), self.ports["postgres"]
        data = self._owned_dir(self.home / "postgres", user)
        if not (data / "PG_VERSION").exists():
            password = self._owned_dir(self.home / "postgres-init", user) / "password"
            _write_private(password, self.settings["POSTGRES_PASSWORD"] + "\n")
            if user:
                shutil.chown(password, user, user)
            subprocess.run(
                [
                    str(pg / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "airflow",
                    f"--pwfile={password}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                user=user,
                capture_output=True,
                cwd=self.home,
            )
            shutil.rmtree(password.parent)
        options = ["-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=", "-c", "max_connections=200"]
        self._spawn("postgres", [str(pg / "postgres"), "-D", str(data), "-p", str(port), *options], {}, user)
        self._wait("postgres", lambda: self._database_ready(create=True))

    def _database_ready(self, create: bool) -> bool:
        import psycopg2

        try:
            connection = psycopg2.connect(
                host=HOST, port=self.ports["postgres"], user="airflow", password=self.settings["POSTGRES_PASSWORD"],
                dbname="postgres", connect_timeout=2,
            )  # fmt: skip
        except psycopg2.OperationalError:
            return False
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
                if cursor.fetchone() is None and create:
                    cursor.execute("CREATE DATABASE airflow")
        finally:
            connection.close()
        return True

    def start_redis(self) -> None:
        user, port = self._service_user(), self.ports["redis"]
        data = self._owned_dir(self.home / "redis", user)
        config = data / "redis.conf"  # the password stays off the command line
        lines = [f"bind {HOST}", f"port {port}", f"requirepass {self.settings['REDIS_PASSWORD']}", f"dir {data}"]
        lines += ["protected-mode yes", "daemonize no", 'save ""', "appendonly yes", "logfile ''"]
        _write_private(config, "\n".join(lines) + "\n")
        if user:
            shutil.chown(config, user, user)
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("redis-server is not installed: apt-get install redis-server (`make cluster-up` does)")
        self._spawn("redis", [server, str(config)], {}, user)
        self._wait("redis", self._redis_ready)

    def _redis_ready(self) -> bool:
        import redis

        client = redis.Redis(host=HOST, port=self.ports["redis"], password=self.settings["REDIS_PASSWORD"])
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start_seaweedfs(self) -> None:
        sys.path.insert(0, str(ROOT / "src"))
        from pipeline.storage.credentials import ensure_server_security

        security = self.home / "seaweedfs-security"
        security.mkdir(mode=0o700, exist_ok=True)
        ensure_server_security(security)
        p, weed = self.ports, [str(BIN / "weed"), f"-config_dir={security}"]
        master = f"{HOST}:{p['master']}.{p['master'] + 10000}"
        here = [f"-ip={HOST}", f"-ip.bind={HOST}"]

        def listen(port: int) -> list[str]:
            return [*here, f"-port={port}", f"-port.grpc={port + 10000}"]

        def data(name: str) -> str:
            return str(self._owned_dir(self.home / "seaweedfs", None) / name)

        self._spawn(
            "seaweedfs-master",
            [
                *weed,
                "master",
                *listen(p["master"]),
                f"-mdir={data('master')}",
                "-defaultReplication=001",
                "-volumeSizeLimitMB=64",
                "-telemetry=false",
                "-disableHttp",
            ],
            {},
        )
        self._wait("seaweedfs-master", lambda: _answers(p["master"] + 10000))
        for volume in self._volumes():
            Path(data(volume)).mkdir(mode=0o700, exist_ok=True)
            self._spawn(
                f"seaweedfs-{volume}",
                [
                    *weed,
                    "volume",
                    *listen(p[volume]),
                    f"-dir={data(volume)}",
                    f"-master={master}",
                    "-max=0",
                    "-dataCenter=dc1",
                    "-rack=rack1",
                    f"-id={volume}",
                ],
                {},
            )
        for volume in self._volumes():
            self._wait(f"seaweedfs-{volume}", lambda v=volume: _answers(p[v]))  # type: ignore[misc]
        Path(data("filer")).mkdir(mode=0o700, exist_ok=True)
        self._spawn(
            "seaweedfs-filer",
            [
                *weed,
                "filer",
                *listen(p["filer"]),
                f"-master={master}",
                f"-defaultStoreDir={data('filer')}",
                "-defaultReplicaPlacement=001",
                "-disableHttp",
            ],
            {},
        )
        self._wait("seaweedfs-filer", lambda: _answers(p["filer"] + 10000))
        s = self.settings
        keys = {"AWS_ACCESS_KEY_ID": s["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": s["AWS_SECRET_ACCESS_KEY"]}
        self._spawn(
            "seaweedfs-s3",
            [
                *weed,
                "s3",
                *listen(p["s3"]),
                f"-filer={HOST}:{p['filer']}.{p['filer'] + 10000}",
                "-port.iceberg=0",
                "-port.lance=0",
            ],
            keys,  # its admin identity
        )
        self._wait("seaweedfs-s3", self._bucket_ready)

    def object_store(self) -> Any:
        """The cluster's bucket, as the tasks reach it."""
        sys.path.insert(0, str(ROOT / "src"))
        from pydantic import SecretStr

        from pipeline.storage.store import ObjectStore, S3Config

        s = self.settings
        config = S3Config(
            s["AWS_ENDPOINT_URL_S3"], s["AWS_ACCESS_KEY_ID"], SecretStr(s["AWS_SECRET_ACCESS_KEY"]), "us-east-1"
        )
        return ObjectStore.from_config(config, s["NEWS_BUCKET"])

    def _bucket_ready(self) -> bool:
        from pipeline.errors import PipelineError

        if not _answers(self.ports["s3"]):
            return False
        try:
            store = self.object_store()
            store.ensure_bucket()
            store.put_bytes("cluster/ready", b"ok", "text/plain")  # a write reaches two volume servers
        except PipelineError:
            return False
        return True

    def start_airflow(self) -> None:
        env, airflow = self.airflow_environment(), str(BIN / "airflow")
        home = self.home / "airflow"
        home.mkdir(mode=0o700, exist_ok=True)
        passwords = home / "passwords.json"
        if not passwords.exists():
            _write_private(passwords, json.dumps({"admin": self.settings["AIRFLOW_ADMIN_PASSWORD"]}))
        for step in (["db", "migrate"], ["pools", "set", "news_fetch", str(FETCH_POOL_SLOTS), "fetch tasks at once"]):
            done = subprocess.run([airflow, *step], env=os.environ | env, capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"airflow {' '.join(step)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        api = self.ports["api"]
        api_server = [airflow, "api-server", "--host", HOST, "--port", str(api), "--workers", "1"]
        self._spawn("airflow-apiserver", api_server, env)
        self._wait("airflow-apiserver", self._api_ready, timeout=180)  # tasks report to it from their first moment
        self._spawn("airflow-scheduler", [airflow, "scheduler", "--skip-serve-logs"], env)
        self._spawn("airflow-dag-processor", [airflow, "dag-processor"], env)
        self._spawn("airflow-triggerer", [airflow, "triggerer", "--skip-serve-logs"], env)
        for worker, (queues, processes) in self.workers.items():
            self._spawn(
                f"airflow-worker-{worker}",
                [
                    airflow,
                    "celery",
                    "worker",
                    "--queues",
                    queues,
                    "--concurrency",
                    str(processes),
                    "--celery-hostname",
                    f"{worker}@{HOST}",
                    "--skip-serve-logs",
                ],
                env | {"CLUSTER_NODE_NAME": f"airflow-worker-{worker}"},
            )

    def _api_ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.ports['api']}/api/v2/monitor/health", timeout=2):
                return True
        except OSError:
            return False

    def up(self) -> None:
        self.prepare()
        self.start_postgres()
        self.start_redis()
        self.start_seaweedfs()
        self.start_airflow()

    def stop(self, names: list[str], timeout: float = 30) -> list[str]:
        """End these processes (and their sessions) by their pid files, all at once; return those that ran."""
        running = {name: pid for name in names if (pid := self.pid(name))}
        for name, pid in running.items():
            # Postgres: SIGINT is its fast shutdown (SIGTERM waits for every client to leave).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in running.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for name in names:
            if name in running:
                _kill_session(running[name])  # what is left: task processes, pool children
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        return list(running)

    def kill(self, name: str) -> None:
        """SIGKILL one process and everything in its session, as when its machine is lost."""
        pid = self.pid(name)
        if pid is None:
            raise SystemExit(f"{name} is not running")
        _kill_session(pid)
        while _alive(pid) or _session(pid):
            time.sleep(0.05)

    def down(self) -> list[str]:
        """Stop Airflow, then the object store, then the broker and the database; return the names stopped.
        Waits until the ports are free."""
        names = self.names()
        airflow = [n for n in names if n.startswith("airflow-")]
        seaweedfs = [n for n in names if n.startswith("seaweedfs-")]
        stopped = self.stop(airflow) + self.stop(seaweedfs, timeout=10) + self.stop(["redis", "postgres"])
        if self.state.exists():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(_answers(port) for port in self.ports.values()):
                time.sleep(0.2)
        return stopped

    def exports(self) -> str:
        env = self.airflow_environment()
        return "\n".join(f"export {name}={_shell_quote(value)}" for name, value in env.items())


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down", "env", "kill", "guard"])
    parser.add_argument("name", nargs="?", help="kill: the process to SIGKILL (as in DIR/run/NAME.pid)")
    parser.add_argument("--dir", type=Path, default=ROOT / ".local" / "cluster")
    parser.add_argument("--workers", default="fetch,enrich", help="fetch,enrich (two workers) or all (one)")
    parser.add_argument(
        "--failover",
        type=int,
        help=f"up: seconds of silence before a lost worker's task is retried (first up: {FAILOVER_S}, kept after)",
    )
    args = parser.parse_args(argv)
    workers = ONE_WORKER if args.workers == "all" else {w: WORKERS[w] for w in args.workers.split(",")}
    cluster = Cluster(args.dir, workers, args.failover if args.action == "up" else None)
    if args.action == "up":
        try:
            cluster.up()
        except BaseException:
            cluster.down()
            raise
        s = cluster.settings
        print(f"Airflow UI: http://{HOST}:{cluster.ports['api']}  user: admin  password: {s['AIRFLOW_ADMIN_PASSWORD']}")
        print(f"S3: {s['AWS_ENDPOINT_URL_S3']} (keys in {cluster.env_file}); logs and pids in {cluster.run_dir}")
    elif args.action == "down":
        for name in cluster.down():
            print(f"stopped {name}")
    elif args.action == "env":
        print(cluster.exports())
    elif args.action == "guard":
        # Started in a session of its own with a pipe from a test or benchmark: the pipe closes when that
        # process ends, also by SIGKILL, and the cluster it started goes down with it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdin.buffer.read()
        cluster.down()
    else:
        cluster.kill(args.name)


if __name__ == "__main__":
    main()
