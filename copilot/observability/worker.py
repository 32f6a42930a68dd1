"""The Prometheus exporter of a Celery worker (``copilot worker`` with ``COPILOT_WORKER_METRICS_PORT``).

A worker's tasks run in its pool processes, each with its own composition root and so its own
``CopilotMetrics``. prometheus_client's multiprocess mode joins them: before the pool forks, ``copilot worker``
points ``PROMETHEUS_MULTIPROC_DIR`` at a directory of this worker (``start_worker_exporter``), every metric of
every pool process then writes its values to a file there, and the exporter (an HTTP server in the worker's
main process) serves their sum (``MultiProcessCollector``) with the Celery queue lengths read from Redis.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from copilot.config import Settings
from copilot.errors import ConfigError
from copilot.observability.queues import queue_collector

__all__ = [
    "WorkerExporter",
    "enable_multiprocess",
    "prepare_multiprocess_dir",
    "start_worker_exporter",
    "worker_registry",
]

log = logging.getLogger(__name__)

#: The variable prometheus_client reads to write each process's values to files (multiprocess mode).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(directory: Path) -> Path:
    """``directory``, created and emptied (a restarted worker must not add its predecessor's counts)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, mode=0o700)
    return directory


def enable_multiprocess(directory: Path) -> None:
    """Make every metric created from now on in this process and its forks write to ``directory``."""
    from prometheus_client import values

    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # chosen when prometheus_client is imported: choose again


def worker_registry(settings: Settings, directory: Path, queues: Sequence[str]) -> CollectorRegistry:
    """What the exporter serves: the sum over the pool processes' files, and the Celery queues' lengths."""
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    registry.register(queue_collector(settings, queues))
    return registry


@dataclass
class WorkerExporter:
    """A running exporter: its directory of per-process files and its HTTP server."""

    directory: Path
    server: Any
    thread: Any

    def mark_dead(self, pid: int) -> None:
        """Forget the live gauges of a pool process that exited."""
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid, str(self.directory))

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def start_worker_exporter(settings: Settings, queues: Sequence[str] = ()) -> WorkerExporter | None:
    """Serve the worker's metrics on ``COPILOT_WORKER_METRICS_HOST:PORT`` (None: no port set, nothing started).

    Call it before the pool forks and before any metric exists in this process (``copilot worker`` does).
    """
    if settings.worker_metrics_port is None:
        return None
    from prometheus_client import start_http_server

    directory = prepare_multiprocess_dir(settings.data_dir / "worker-metrics" / str(os.getpid()))
    enable_multiprocess(directory)
    registry = worker_registry(settings, directory, queues)
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError(f"COPILOT_WORKER_METRICS_PORT: cannot listen on {host}:{port} ({exc.strerror})") from None
    log.info("worker metrics on http://%s:%s/metrics", host, port)
    return WorkerExporter(directory, server, thread)
