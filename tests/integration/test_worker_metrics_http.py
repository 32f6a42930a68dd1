"""A Celery worker's exporter over HTTP: what a forked pool process records and the length of a queue in a real
Redis are served on ``COPILOT_WORKER_METRICS_PORT`` and parse with Prometheus' own parser.

The worker side runs in a subprocess (multiprocess mode changes prometheus_client for the whole process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import redis as redis_lib
from prometheus_client.parser import text_string_to_metric_families

from tests.servers.redis import RedisServer

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from channels.worker.names import QUEUES
    from copilot.config import Settings
    from copilot.observability.worker import start_worker_exporter

    settings = Settings(data_dir=Path(sys.argv[1]), redis_url=sys.argv[2], worker_metrics_port=int(sys.argv[3]))
    exporter = start_worker_exporter(settings, QUEUES)
    pid = os.fork()
    if pid == 0:  # a pool process: its own root's metrics
        from copilot.composition import new_metrics
        new_metrics(settings).executor_outcome("reschedule_receipt", "failed")
        os._exit(0)
    os.waitpid(pid, 0)
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_worker_exporter_serves_its_pool_processes_metrics_and_the_queue_lengths(
    redis: RedisServer, tmp_path: Path
) -> None:
    redis_lib.Redis.from_url(redis.url()).lpush("urgent", "a", "b", "c")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", WORKER, str(tmp_path), redis.url(), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("copilot_queue_length", (("queue", "urgent"),))] == 3
    assert samples[("copilot_queue_broker_up", ())] == 1
    key = ("copilot_executor_outcomes_total", (("action_type", "reschedule_receipt"), ("result", "failed")))
    assert samples[key] == 1


def test_a_task_queued_by_the_replica_is_aged_from_its_stamp_in_a_real_redis(
    redis: RedisServer, tmp_path: Path
) -> None:
    import time

    from prometheus_client import CollectorRegistry

    from channels.worker.enqueue import TaskQueue
    from channels.worker.names import QUEUES
    from copilot.config import Settings
    from copilot.observability.queues import queue_collector

    settings = Settings(data_dir=tmp_path, redis_url=redis.url())  # type: ignore[arg-type]
    queue = TaskQueue(settings)
    try:
        queue.email(b"Subject: hello\r\n\r\nbody", uid=1, uidvalidity=1, folder="INBOX")
    finally:
        queue.close()
    registry = CollectorRegistry()
    registry.register(queue_collector(settings, QUEUES))
    time.sleep(0.2)
    assert registry.get_sample_value("copilot_queue_length", {"queue": "urgent"}) == 1
    waited = registry.get_sample_value("copilot_queue_oldest_age_seconds", {"queue": "urgent"})
    assert waited is not None and 0.2 <= waited < 30
