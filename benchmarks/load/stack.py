"""The services of a run and the ``copilot`` processes on them: start, restart, kill, stop.

PostgreSQL, Redis and Dovecot (``tests/servers/``), the Odoo
sandbox (``copilot sandbox``), the Slack Web API stand-in (``tests/fakes/slack_api.py``), two
``copilot serve`` replicas behind ``benchmarks.load.proxy``, ``copilot beat`` and ``copilot worker``
processes. Every ``copilot`` process gets the same settings (one database, one Redis, one Odoo URL, one
audit key) and a data dir of its own, as on separate machines.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load.inputs import SOURCE
from benchmarks.load.options import LoadOptions
from benchmarks.load.procs import Proc, Processes, wait_for, wait_http, wait_port
from tests.fakes.slack_api import FakeSlackAPI, SlackUser
from tests.servers.dovecot import DovecotServer, ImapUser, free_port
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

__all__ = ["COPILOT", "REPO", "Stack", "engine_available"]

REPO = Path(__file__).resolve().parents[2]
COPILOT = Path(sys.executable).with_name("copilot")
BUYER_CHANNEL = "C_PURCHASING"
START_SECONDS = 180.0
#: ``copilot serve``'s last line: its port is closed and in-flight work finished.
SERVE_STOPPED = "copilot serve: stopped"
#: Seconds a stopped replica may take to exit before it is killed (its port is already free).
LINGER_SECONDS = 3.0
#: A Celery worker's line once it takes tasks.
#: What each pool process of ``copilot worker`` logs once it can take tasks (its runtime built, its model loaded).
WORKER_READY = re.compile(r"worker process \d+ ready")


def _copilot_command() -> list[str]:
    return [str(COPILOT)] if COPILOT.exists() else [sys.executable, "-m", "copilot.cli"]


def _base_env() -> dict[str, str]:
    """This process's environment without any COPILOT_ setting, with this checkout first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def engine_available() -> bool:
    """True when ``copilot worker`` exists (the Celery engine is built in)."""
    try:
        done = subprocess.run(  # noqa: S603 - our own command
            [*_copilot_command(), "worker", "--help"],
            env=_base_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@dataclass
class Stack:
    """Every server and process of one run; ``start()`` brings them up, ``close()`` takes everything down."""

    options: LoadOptions
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-load-")))
    procs: Processes = field(default_factory=Processes)
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    slack_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    engine: bool = False
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    dovecot: DovecotServer | None = None
    mailbox: ImapUser | None = None
    slack_api: FakeSlackAPI | None = None
    database_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    replica_ports: list[int] = field(default_factory=list)
    proxy_port: int = 0
    replicas: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)

    # -- start -------------------------------------------------------------------------------------
    def start(self, *, engine: bool) -> Stack:
        """Start the servers, the sandbox, the replicas and the proxy (workers: ``start_worker``)."""
        self.engine = engine
        self.postgres = PostgresServer()  # kept before starting: close() removes its folder whatever happens
        self.postgres.start()
        self.database_url = self.postgres.create_database()
        self.dovecot = DovecotServer(users=1)
        self.dovecot.start()
        self.mailbox = self.dovecot.new_user()
        users = [
            SlackUser("UADMIN", "admin@yourcompany.example.com", "Mitchell Admin"),
            SlackUser("UBUYER", "mark.brown23@example.com", "Marc Demo"),
        ]
        self.slack_api = FakeSlackAPI(users=users).__enter__()
        self.redis = RedisServer()
        self.redis.start()
        redis_port = self.redis.port
        sandbox_port = free_port()
        self.env = self._env(redis_port, sandbox_port)
        latency = ["--latency-ms", f"{self.options.odoo_latency_ms:g}"]
        sandbox = self._proc("sandbox", ["sandbox", "--port", str(sandbox_port), *latency])
        self.procs.start(sandbox)
        wait_port(sandbox_port, 60, "the Odoo sandbox")
        self._upgrade()
        self.replica_ports = [free_port(), free_port()]
        for n, port in enumerate(self.replica_ports, start=1):
            self.replicas.append(self.procs.start(self._proc(f"replica{n}", ["serve", "--port", str(port)])))
        for replica, port in zip(self.replicas, self.replica_ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/readyz", START_SECONDS, replica.name, proc=replica)
        self.proxy_port = free_port()
        backends = [arg for port in self.replica_ports for arg in ("--backend", str(port))]
        proxy = Proc(
            "proxy",
            [sys.executable, "-m", "benchmarks.load.proxy", "--port", str(self.proxy_port), *backends],
            _base_env(),
            self.root / "proxy.log",
            cwd=REPO,
        )
        self.procs.start(proxy)
        wait_port(self.proxy_port, 30, "the proxy")
        if engine:
            self.procs.start(self._proc("beat", ["beat"]))
        return self

    def _env(self, redis_port: int, sandbox_port: int) -> dict[str, str]:
        assert self.mailbox is not None and self.dovecot is not None and self.slack_api is not None
        return _base_env() | {
            "COPILOT_DATABASE_URL": self.database_url,
            "COPILOT_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "COPILOT_ODOO_URL": f"http://127.0.0.1:{sandbox_port}",
            "COPILOT_ODOO_DB": "demo",
            "COPILOT_ODOO_LOGIN": "copilot",
            "COPILOT_ODOO_PASSWORD": "copilot",
            "COPILOT_SANDBOX_KEEP_WRITES": "false",
            "COPILOT_WEBHOOK_SECRETS": f"{SOURCE}:{self.webhook_secret}",
            "COPILOT_SLACK_BOT_TOKEN": self.slack_api.token,
            "COPILOT_SLACK_SIGNING_SECRET": self.slack_secret,
            "COPILOT_SLACK_API_URL": self.slack_api.url,
            "COPILOT_SLACK_BUYER_CHANNEL": BUYER_CHANNEL,
            "COPILOT_IMAP_HOST": self.dovecot.host,
            "COPILOT_IMAP_PORT": str(self.dovecot.port),
            "COPILOT_IMAP_TLS": "none",
            "COPILOT_IMAP_USER": self.mailbox.login,
            "COPILOT_IMAP_PASSWORD": self.mailbox.password,
            "COPILOT_IMAP_POLL_INTERVAL": "1",
            "COPILOT_INTERNAL_DOMAINS": "yourcompany.example.com",
            "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
            "COPILOT_AUDIT_KEY": secrets.token_hex(32),
            "COPILOT_INJECTION_EMBEDDINGS": "true" if self.options.embeddings else "false",
            "COPILOT_LOG_LEVEL": "WARNING",
            "COPILOT_TASK_TIME_LIMIT": str(self.options.task_time_limit),
        }

    def _proc(self, name: str, args: list[str], **extra: str) -> Proc:
        data = self.root / f"data-{name}"
        data.mkdir(parents=True, exist_ok=True)
        env = self.env | {"COPILOT_DATA_DIR": str(data)} | extra
        return Proc(name, [*_copilot_command(), *args], env, self.root / f"{name}.log", cwd=data)

    def _upgrade(self) -> None:
        """Migrate the empty database once, before the replicas start."""
        proc = self._proc("db-upgrade", ["db", "upgrade"])
        done = subprocess.run(proc.argv, env=proc.env, cwd=proc.cwd, capture_output=True, timeout=120, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"copilot db upgrade failed: {done.stderr.decode(errors='replace')[-2000:]}")

    # -- workers -----------------------------------------------------------------------------------
    def start_worker(self, name: str) -> Proc:
        """Start ``copilot worker`` and wait until it takes tasks."""
        args = ["worker", "--queues", "urgent,batch", "--concurrency", str(self.options.worker_concurrency)]
        proc = self.procs.start(self._proc(name, args, COPILOT_LOG_LEVEL="INFO"))
        self.workers.append(proc)
        self.wait_worker(proc)
        return proc

    def wait_worker(self, proc: Proc) -> None:
        """Wait until each of its pool processes says it is ready (its log since its last start): warm, taking tasks."""

        def ready() -> bool:
            if not proc.alive:
                raise RuntimeError(f"{proc.name} exited with {proc.returncode}:\n{proc.tail()}")
            return len(WORKER_READY.findall(proc.log_since_start())) >= self.options.worker_concurrency

        wait_for(ready, START_SECONDS, f"{proc.name} ready", every=0.2)

    def restart_worker(self, proc: Proc) -> None:
        """Start a killed worker again (as a supervisor would)."""
        proc.start()
        self.wait_worker(proc)

    # -- replicas ----------------------------------------------------------------------------------
    def restart_replica(self, index: int) -> float:
        """SIGTERM a replica (graceful), start it again on its port; returns the seconds it was away."""
        replica, port = self.replicas[index], self.replica_ports[index]
        started = time.monotonic()
        replica.signal_group(signal.SIGTERM)
        wait_for(lambda: not replica.alive or SERVE_STOPPED in replica.log_since_start(), 45, f"{replica.name} stop")
        with contextlib.suppress(TimeoutError):  # its port is closed once it said so; the rest is interpreter exit
            wait_for(lambda: not replica.alive, LINGER_SECONDS, f"{replica.name} exit")
        replica.stop(timeout=0)
        replica.start()
        wait_http(f"http://127.0.0.1:{port}/readyz", START_SECONDS, replica.name, proc=replica)
        return time.monotonic() - started

    @property
    def proxy_url(self) -> str:
        """The replicas' shared address."""
        return f"http://127.0.0.1:{self.proxy_port}"

    # -- stop --------------------------------------------------------------------------------------
    def logs(self) -> dict[str, str]:
        """The end of each process's log (for a failed run)."""
        return {proc.name: proc.tail(15) for proc in self.procs.started}

    def close(self) -> None:
        """Stop every process and server, remove the temp dirs."""
        self.procs.stop_all()
        if self.options.keep_logs is not None:
            self.options.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in self.root.glob("**/*.log"):
                with contextlib.suppress(OSError):
                    shutil.copy(log, self.options.keep_logs / log.name)
        if self.slack_api is not None:
            with contextlib.suppress(Exception):
                self.slack_api.__exit__(None, None, None)
        if self.dovecot is not None:
            with contextlib.suppress(Exception):
                self.dovecot.stop()
        for server in (self.redis, self.postgres):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
