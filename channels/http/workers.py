"""Background workers hosted by ``copilot serve``: the mailbox poller and the executor, started and stopped
with the application.

A worker has a ``name``, ``start()`` (runs on its own thread and returns at once), ``stop(timeout)``
(takes no new item, finishes the one in flight, returns within ``timeout`` seconds) and ``healthy()``.
``build_workers`` decides from the settings whether the executor runs (``COPILOT_EXECUTOR_PASSWORD`` on a
real Odoo); the mailbox worker belongs to the email channel and is added by the process assembly
(``channels.serve``). Workers start in order and stop in reverse order.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from copilot.config import Settings
from copilot.observability import CopilotMetrics

if TYPE_CHECKING:
    from copilot.controls.scheduler import ControlScheduler
    from copilot.service import Copilot

__all__ = ["ExecutorWorker", "Worker", "build_workers", "control_scheduler", "start_workers", "stop_workers"]

log = logging.getLogger("channels.http.workers")

#: Seconds each worker gets to finish its item in flight at shutdown.
STOP_TIMEOUT = 25.0


@runtime_checkable
class Worker(Protocol):
    """What the application needs of a background worker."""

    name: str

    def start(self) -> None:
        """Start on its own thread; return at once."""

    def stop(self, timeout: float) -> None:
        """Take no new item, finish the one in flight (at most ``timeout`` seconds)."""

    def healthy(self) -> bool:
        """True while it runs and reaches what it depends on."""


class ExecutorWorker:
    """The approval executor's poll loop (and, with a secret, its wake-up listener) as a worker."""

    name = "executor"

    def __init__(
        self, settings: Settings, executor: Any | None = None, *, metrics: CopilotMetrics | None = None
    ) -> None:
        from copilot.approvals import Executor, executor_client

        self.settings = settings
        if executor is None:
            client = executor_client(settings)
            if metrics is not None:
                client.instrument(metrics)
            executor = Executor(client, now=lambda: datetime.now(UTC), metrics=metrics)
        self.executor = executor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._receiver: Any | None = None

    def start(self) -> None:
        """Poll every ``COPILOT_EXECUTOR_INTERVAL`` s on a thread; listen for Odoo's wake-up call if configured."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self.settings.executor_webhook_secret is not None:
            from copilot.approvals.webhook import WebhookReceiver

            self._receiver = WebhookReceiver(
                self.settings.executor_webhook_secret,
                self.wake,
                host=self.settings.executor_webhook_host,
                port=self.settings.executor_webhook_port,
                db=self.settings.odoo_db,
            ).start()
        self._thread = threading.Thread(
            target=self.executor.run_forever,
            args=(self.settings.executor_interval, self._stop),
            name="copilot-executor",
            daemon=True,
        )
        self._thread.start()

    def wake(self) -> None:
        """Run a pass now (an approval was granted) instead of at the next poll."""
        self.executor.wake()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Let the pass in flight finish (at most ``timeout`` s); stop the listener."""
        self._stop.set()
        self.executor.wake()  # leave the poll wait now
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning(
                    "executor still busy after %.0f s; an interrupted request is reconciled at next start", timeout
                )

    def healthy(self) -> bool:
        """True while the poll loop runs."""
        return self._thread is not None and self._thread.is_alive()


def build_workers(
    settings: Settings, *, metrics: CopilotMetrics | None = None, copilot: Copilot | None = None
) -> list[Worker]:
    """The executor worker when the settings ask for it (its outcomes recorded in ``metrics``) and, given the
    facade, the controls' scheduler unless ``COPILOT_CONTROLS_SCHEDULER=false``; not started."""
    workers: list[Worker] = []
    if settings.executor_password is not None:
        if settings.sandbox:
            log.warning("executor not started: it acts on a real Odoo (COPILOT_ODOO_URL), not on the sandbox")
        else:
            workers.append(ExecutorWorker(settings, metrics=metrics))
    if copilot is not None and settings.controls_scheduler:
        workers.append(control_scheduler(copilot))
    return workers


def control_scheduler(copilot: Copilot) -> ControlScheduler:
    """The scheduled controls of ``controls.yaml``, each run at its times through the facade as the scheduler."""
    from copilot.application.principals import ServiceClient
    from copilot.controls.scheduler import ControlScheduler

    engine = copilot.controls
    engine.refresh_gauges()  # the open exceptions' gauges from the store, before the first run
    scheduler = ServiceClient.scheduler()
    return ControlScheduler(
        engine.definitions, engine.registry.names(), lambda name: copilot.run_control(scheduler, name)
    )


def start_workers(workers: list[Worker]) -> list[Worker]:
    """Start each worker in order; on a failure, stop those already started and raise."""
    started: list[Worker] = []
    for worker in workers:
        try:
            worker.start()
        except Exception:
            log.exception("worker %s failed to start", worker.name)
            stop_workers(started, timeout=5.0)
            raise
        started.append(worker)
        log.info("worker %s started", worker.name)
    return started


def stop_workers(workers: list[Worker], *, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the workers in reverse order, each finishing its item in flight (``timeout`` s each)."""
    for worker in reversed(workers):
        started = time.monotonic()
        log.info("worker %s stopping (finishing its item in flight)", worker.name)
        try:
            worker.stop(timeout)
        except Exception:  # one worker's failure must not keep the others from stopping
            log.exception("worker %s failed to stop cleanly", worker.name)
            continue
        log.info("worker %s stopped in %.1f s", worker.name, time.monotonic() - started)
