"""A ``copilot worker`` process whose pool process is killed mid-task: the task comes back and runs once.

The worker (a real subprocess, prefork pool of one) reads Odoo through a proxy that makes every call slow,
so the test can see the email claimed in the ledger and kill the pool process (SIGKILL) while it is
inside the work. ``acks_late`` + ``task_reject_on_worker_lost`` give the task back to Redis, the worker
starts a new pool process, the redelivered task (same task id) takes its claim back and finishes: one
``done`` in the ledger, one delivery of the result, nothing parked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from channels.email.ledger import message_key
from channels.worker import TaskQueue
from copilot.config import load_settings
from copilot.email import parse_email
from copilot.state import Database, DeadLetterStore
from copilot.state.tables import LedgerRow, OutboxRow
from tests.servers.redis import RedisServer

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
SUPPLIER = (REPO / "tests" / "fixtures" / "emails" / "04_p00009_partial_shipment.eml").read_bytes()
#: Seconds each Odoo call takes through the proxy.
DELAY = 0.2


class SlowProxy:
    """Forwards JSON-RPC POSTs to ``target`` after ``DELAY`` seconds (a slow Odoo), on 127.0.0.1."""

    def __init__(self, target: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(DELAY)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "cookie")}
                reply = httpx.post(proxy.target + self.path, content=body, headers=headers, timeout=30)
                self.send_response(reply.status_code)
                for name in ("Content-Type", "Set-Cookie"):
                    if name in reply.headers:
                        self.send_header(name, reply.headers[name])
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *args: Any) -> None:
                return

        self.target = target.rstrip("/")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def pool_children(pid: int) -> list[int]:
    """The pool processes of the worker ``pid`` (its child processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def env(postgres: Any, redis: RedisServer, sandbox: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The worker's environment: PostgreSQL, Redis, the sandbox behind the slow proxy."""
    with SlowProxy(sandbox.url) as proxy:
        yield {
            "COPILOT_DATA_DIR": str(tmp_path / "data"),
            "COPILOT_DATABASE_URL": postgres.create_database(),
            "COPILOT_REDIS_URL": redis.url(),
            "COPILOT_ODOO_URL": proxy.url,
            "COPILOT_ODOO_DB": sandbox.db,
            "COPILOT_ODOO_LOGIN": "copilot",
            "COPILOT_ODOO_PASSWORD": "copilot",
            "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
            "COPILOT_TASK_TIME_LIMIT": "120",
            "COPILOT_LOG_LEVEL": "INFO",
            "COPILOT_INJECTION_EMBEDDINGS": "false",  # no model to load: the test is about delivery
        }


def test_a_task_whose_worker_process_is_killed_is_redelivered_and_processed_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=Path(env["COPILOT_DATA_DIR"]),
        database_url=env["COPILOT_DATABASE_URL"],
        redis_url=env["COPILOT_REDIS_URL"],
        _env_file=None,
    )
    db = Database.from_settings(settings)
    key = message_key(parse_email(SUPPLIER).message_id, SUPPLIER)
    log = (tmp_path / "worker.log").open("wb")
    command = [sys.executable, "-c", "from copilot.cli import main; main()"]  # `copilot` of this checkout
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [*command, "worker", "--queues", "urgent,batch", "--concurrency", "1"],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    queue = TaskQueue(settings)
    try:
        queue.email(SUPPLIER, uid=1, uidvalidity=7, folder="INBOX")

        def claimed() -> LedgerRow | None:
            with db.session() as session:
                row = session.get(LedgerRow, key)
                return row if row is not None and row.claimed_by and row.status == "pending" else None

        deadline = time.monotonic() + 120
        while (row := claimed()) is None:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        first_owner = row.claimed_by
        (child,) = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)  # mid-task: the email is claimed, its Odoo reads are under way

        deadline = time.monotonic() + 120
        while True:
            with db.session() as session:
                status = session.scalar(select(LedgerRow.status).where(LedgerRow.key == key))
            if status == "done":
                break
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        with db.session() as session:
            done = session.get(LedgerRow, key)
            deliveries = session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.message_key == key))
        assert done is not None and done.attempts == 0 and done.claimed_by is None
        assert deliveries == 1  # the summary was recorded once, by the redelivered task
        assert child not in pool_children(worker.pid)  # a new pool process did it
        assert first_owner  # the task id that claimed it first and took it back
        assert DeadLetterStore(db).list() == []
        assert "WorkerLostError" in (tmp_path / "worker.log").read_text()
    finally:
        queue.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
        log.close()
        db.close()


def test_each_pool_process_loads_the_model_before_its_first_task_with_one_inference_thread(
    env: dict[str, str], tmp_path: Path
) -> None:
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-c", "from copilot.cli import main; main()"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [*command, "worker", "--queues", "urgent", "--concurrency", "1"],
            env={**os.environ, **env, "PYTHONPATH": str(REPO), "COPILOT_INJECTION_EMBEDDINGS": "true"},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        deadline = time.monotonic() + 150
        while "ready (embedding layer" not in log_path.read_text():  # no task was sent: this is its start
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        # the model loaded and the patterns embedded, with one inference thread per pool process
        assert "ready (embedding layer on, inference threads 1," in log_path.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
