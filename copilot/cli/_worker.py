"""``copilot worker`` (a Celery worker on the ``urgent``/``batch`` queues) and ``copilot beat`` (periodic work).

Both need ``COPILOT_REDIS_URL``; Celery is imported only when one of them runs (``copilot --help`` stays fast).
See docs/scale-out.md.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.observability.worker import WorkerExporter

__all__ = ["beat", "worker"]


def _queues(value: str) -> list[str]:
    from channels.worker.names import QUEUES

    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if not names or unknown:
        raise typer.BadParameter(f"choose among {', '.join(QUEUES)} (comma-separated)", param_hint="--queues")
    return names


def worker(
    queues: Annotated[
        str, typer.Option("--queues", "-Q", help="Comma-separated queues to consume: urgent, batch.")
    ] = "urgent,batch",
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, max=64, help="Tasks run at once (pool processes).")
    ] = 2,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Worker name (default: copilot-PID@host).")] = None,
    pool: Annotated[
        str, typer.Option("--pool", help="Celery pool: prefork (processes) or threads or solo.")
    ] = "prefork",
) -> None:
    """Run a Celery worker: webhook events, Slack events, mail, executor wake-ups (urgent) and polls (batch)."""
    import os

    from channels.worker.runtime import warm_on_start
    from channels.worker.tasks import worker_app
    from copilot.config import get_settings

    # One inference thread per pool process (read by PyTorch and BLAS when they load, in the pool processes):
    # a worker's concurrency is its processes; an operator's own setting wins.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    settings = get_settings()
    chosen = _queues(queues)
    if pool not in ("prefork", "threads", "solo"):
        raise typer.BadParameter("choose prefork, threads or solo", param_hint="--pool")
    exporter = _metrics_exporter(settings)  # before the app, the pool and any metric exist
    app = worker_app(settings)
    if exporter is not None:
        from celery.signals import worker_process_shutdown

        def forget(pid: int | None = None, **_: object) -> None:
            exporter.mark_dead(pid or os.getpid())

        worker_process_shutdown.connect(forget, weak=False)
    if pool == "prefork":
        warm_on_start(app)  # each pool process is ready (model loaded) before it takes a task
    node = name or f"copilot-{os.getpid()}@{socket.gethostname()}"
    typer.echo(f"copilot worker: {node} on {', '.join(chosen)} (concurrency {concurrency}); SIGTERM stops", err=True)
    argv = [
        "worker",
        f"--queues={','.join(chosen)}",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--hostname={node}",
        f"--loglevel={settings.log_level}",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)


def _metrics_exporter(settings: Settings) -> WorkerExporter | None:
    """With ``COPILOT_WORKER_METRICS_PORT``: the exporter of this worker's metrics (its pool processes' sum and the
    queue lengths), started; else None."""
    from channels.worker.names import QUEUES
    from copilot.observability.worker import start_worker_exporter

    exporter = start_worker_exporter(settings, QUEUES)
    if exporter is not None:
        where = f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"
        typer.echo(f"copilot worker: metrics on {where}", err=True)
    return exporter


def beat() -> None:
    """Send the periodic tasks: the mailbox poll (COPILOT_IMAP_POLL_INTERVAL), the executor's poll, the controls.

    With ``COPILOT_EXECUTOR_WEBHOOK_SECRET`` it also listens for Odoo's wake-up call (one listener: beat runs
    once) and queues an executor pass on ``urgent`` for each.
    """
    from channels.worker.celery_app import create_celery
    from channels.worker.enqueue import TaskQueue
    from copilot.config import get_settings
    from copilot.state.db import usable_data_dir

    settings = get_settings()
    app = create_celery(settings)
    schedule = app.conf.beat_schedule
    if not schedule:
        typer.echo("copilot beat: nothing to schedule (set COPILOT_IMAP_HOST or the executor's settings)", err=True)
    else:
        typer.echo(f"copilot beat: {', '.join(schedule)}; SIGTERM stops", err=True)
    receiver = None
    if settings.executor_webhook_secret is not None and "run the approval executor" in schedule:
        from copilot.approvals.webhook import WebhookReceiver

        queue = TaskQueue(settings, app)

        def wake() -> None:
            queue.wake_executor()

        receiver = WebhookReceiver(
            settings.executor_webhook_secret,
            wake,
            host=settings.executor_webhook_host,
            port=settings.executor_webhook_port,
            db=settings.odoo_db,
        ).start()
        typer.echo(f"copilot beat: executor wake-ups at {receiver.url}", err=True)
    state = usable_data_dir(settings) / "celerybeat-schedule"
    try:
        app.start(["beat", f"--schedule={state}", f"--loglevel={settings.log_level}"])
    finally:
        if receiver is not None:
            receiver.stop()
