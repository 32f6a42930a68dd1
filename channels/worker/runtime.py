"""What the tasks of one worker process share, built on first use in that process (after the pool forks).

``runtime_for(app)`` gives the process's ``WorkerRuntime``: the database, the ``Copilot`` (Odoo session,
stores, embedder), the email channel's processing (``MailWorker`` without its poll thread), the webhook
ledger, the dead letters and a ``TaskQueue`` to wake the executor. It hangs on the Celery app, keyed by
process id, so a forked pool child never uses its parent's connections.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading
import time
from typing import Any

from channels.email.worker import MailWorker
from channels.http.webhook_events import EventLedger
from channels.serve import mail_worker, plug_slack_digest
from channels.worker.enqueue import TaskQueue
from copilot.composition import open_root
from copilot.config import Settings
from copilot.service import Copilot, open_copilot
from copilot.state.database import Database
from copilot.state.deadletters import DeadLetterStore

__all__ = ["WorkerRuntime", "close_runtime", "runtime_for", "warm_on_start"]

log = logging.getLogger("channels.worker")

_BUILD = threading.Lock()


class WorkerRuntime:
    """The process's database, Copilot, email processing and ledgers; ``close()`` releases them."""

    def __init__(self, settings: Settings, celery: Any) -> None:
        self.pid = os.getpid()
        self.settings = settings
        self._stack = contextlib.ExitStack()
        try:
            root = self._stack.enter_context(open_root(settings))  # this process's one composition root
            self.root = root
            #: This process's metrics: with ``COPILOT_WORKER_METRICS_PORT`` the worker's exporter serves their sum.
            self.metrics = root.metrics
            self.db: Database = root.db
            self.copilot: Copilot = self._stack.enter_context(open_copilot(settings, root=root))
            # The email channel's processing, results to Slack (bot token) or the outbox, as in ``copilot serve``.
            self.mail: MailWorker = mail_worker(settings, self.copilot, db=self.db)
            plug_slack_digest(self.copilot, settings)  # a control run as a task digests to Slack as in serve
            self.events = EventLedger(self.db)
            self.deadletters: DeadLetterStore = root.deadletters
            self.queue = TaskQueue(settings, celery)
        except BaseException:
            self._stack.close()
            raise
        #: How long a claim of this worker lasts: longer than a task may run.
        self.lease = float(settings.task_time_limit + 30)
        log.info("worker process %s: runtime on %s", self.pid, self.copilot.odoo.label)

    def warm(self) -> None:
        """Load what the first task would otherwise load under its time limit: the injection detector's model."""
        started = time.monotonic()
        embeddings = self.settings.injection_embeddings and self.copilot.components.injection.warm()
        took = time.monotonic() - started
        torch = sys.modules.get("torch")  # loaded with the model
        threads = torch.get_num_threads() if torch is not None else os.environ.get("OMP_NUM_THREADS", "default")
        layer = "on" if embeddings else "off"
        log.info(
            "worker process %s ready (embedding layer %s, inference threads %s, %.1f s)", self.pid, layer, threads, took
        )

    @functools.cached_property
    def redis(self) -> Any:
        """A Redis client on ``COPILOT_REDIS_URL`` (the poll's marks of messages already queued)."""
        import redis

        from channels.worker.celery_app import redis_url

        return redis.Redis.from_url(redis_url(self.settings))

    @functools.cached_property
    def executor(self) -> Any:
        """The approval executor with its own Odoo credential (``COPILOT_EXECUTOR_PASSWORD``)."""
        from datetime import UTC, datetime

        from copilot.approvals import Executor, executor_client

        client = executor_client(self.settings)
        client.instrument(self.metrics, self.root.tracing.tracer)
        return Executor(client, now=lambda: datetime.now(UTC), metrics=self.metrics)

    def close(self) -> None:
        """Close the mailbox connection, the Copilot and the database."""
        with contextlib.suppress(Exception):
            self.mail.stop(timeout=1.0)
        channel = getattr(self, "slack_channel", None)
        if channel is not None:
            channel.close()
        self._stack.close()


def runtime_for(celery: Any) -> WorkerRuntime:
    """This process's runtime for the Celery app ``celery`` (built on first use)."""
    runtime: WorkerRuntime | None = getattr(celery, "copilot_runtime", None)
    if runtime is not None and runtime.pid == os.getpid():
        return runtime
    with _BUILD:
        runtime = getattr(celery, "copilot_runtime", None)
        if runtime is None or runtime.pid != os.getpid():
            runtime = WorkerRuntime(celery.copilot_settings, celery)
            celery.copilot_runtime = runtime
    return runtime


def warm_on_start(celery: Any) -> None:
    """Build and warm each pool process's runtime when it starts, before it takes a task (``copilot worker``).

    Built inside the first task instead, the model load counted against that task's time limit (a soft limit
    hit there left the process without the detector's embedding layer) and delayed it by seconds. Each pool
    process keeps one inference thread (``OMP_NUM_THREADS=1``, set by ``copilot worker``): a worker's
    concurrency is its processes, and two workers sharing the cores must not each spread over all of them.
    """
    from celery.signals import worker_process_init

    def init(**_: Any) -> None:
        try:
            runtime_for(celery).warm()
        except Exception:  # the first task builds it again and reports the failure where it matters
            log.exception("worker process %s ready without its warm-up (it failed)", os.getpid())

    worker_process_init.connect(init, weak=False)


def close_runtime(celery: Any) -> None:
    """Close this process's runtime, if it built one."""
    runtime: WorkerRuntime | None = getattr(celery, "copilot_runtime", None)
    if runtime is not None and runtime.pid == os.getpid():
        celery.copilot_runtime = None
        runtime.close()
