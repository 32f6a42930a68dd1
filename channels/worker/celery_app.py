"""``create_celery(settings)``: the Celery application of ``copilot worker``/``copilot beat``, from the settings.

No module-level application: each process builds its own from ``COPILOT_REDIS_URL``. Every task is
acknowledged late (``acks_late``) and given back to the queue when its worker process dies
(``task_reject_on_worker_lost``), so a worker killed mid-task loses nothing; the ledgers' claims make the
redelivered task run once. A task runs at most ``COPILOT_TASK_TIME_LIMIT`` seconds; Redis redelivers a
task whose whole worker vanished after that plus 60 s (the visibility timeout), when the claim of the
dead worker (that plus 30 s) has run out.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from channels.worker.names import (
    BATCH,
    CONTROL_TASK,
    EMAIL_TASK,
    EXECUTOR_TASK,
    MAIL_POLL_TASK,
    QUEUES,
    REINDEX_TASK,
    SLACK_TASK,
    URGENT,
    WEBHOOK_TASK,
)
from copilot.config import Settings
from copilot.errors import ConfigError

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["BATCH", "QUEUES", "URGENT", "beat_schedule", "control_entries", "create_celery", "redis_url", "routes"]


#: Seconds a queued control run stays valid: a run not started by then is dropped (the next scheduled one comes).
CONTROL_EXPIRES = 3600
#: How long a pool process may take to start (it loads the embedding model first; Celery's default is 4 s).
PROCESS_START_SECONDS = 180.0


def redis_url(settings: Settings) -> str:
    """``COPILOT_REDIS_URL``; ``ConfigError`` when it is not set (workers need a broker)."""
    if settings.redis_url is None or not settings.redis_url.get_secret_value().strip():
        raise ConfigError("COPILOT_REDIS_URL is not set: workers and beat need Redis (e.g. redis://127.0.0.1:6379/0)")
    return settings.redis_url.get_secret_value().strip()


def routes() -> dict[str, dict[str, str]]:
    """Which queue each task goes to by default (a wake-up of the executor is sent to ``urgent`` explicitly)."""
    urgent = (EMAIL_TASK, WEBHOOK_TASK, SLACK_TASK)
    batch = (MAIL_POLL_TASK, REINDEX_TASK, CONTROL_TASK, EXECUTOR_TASK)
    return {**{name: {"queue": URGENT} for name in urgent}, **{name: {"queue": BATCH} for name in batch}}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The periodic work ``copilot beat`` sends: the mailbox poll and the executor's poll, when configured."""
    schedule: dict[str, dict[str, Any]] = {}
    if settings.imap_host:
        schedule["poll the mailbox"] = {
            "task": MAIL_POLL_TASK,
            "schedule": timedelta(seconds=settings.imap_poll_interval),
            "options": {"queue": BATCH, "expires": settings.imap_poll_interval},
        }
    if settings.executor_password is not None and not settings.sandbox:
        schedule["run the approval executor"] = {
            "task": EXECUTOR_TASK,
            "schedule": timedelta(seconds=settings.executor_interval),
            "options": {"queue": BATCH, "expires": settings.executor_interval},
        }
    if settings.controls_scheduler:
        schedule.update(control_entries(settings))
    return schedule


def control_entries(settings: Settings) -> dict[str, dict[str, Any]]:
    """A beat entry per enabled control, at its ``controls.yaml`` cron times (the same ones ``copilot serve`` uses)."""
    from zoneinfo import ZoneInfo

    from celery.schedules import crontab

    from copilot.controls.definitions import load_definitions
    from copilot.controls.registry import ControlRegistry
    from copilot.controls.scheduler import cron_fields, scheduled

    registry = ControlRegistry.default()
    config = load_definitions(settings, thresholds=registry.thresholds_models())
    # beat's persistent scheduler pickles every entry (a local function would crash it): a partial pickles
    now = functools.partial(datetime.now, ZoneInfo(config.timezone))
    return {
        f"control {name}": {
            "task": CONTROL_TASK,
            "schedule": crontab(**cron_fields(cron), nowfun=now),
            "args": [name],
            "options": {"queue": BATCH, "expires": CONTROL_EXPIRES},
        }
        for name, cron in scheduled(config, registry.names()).items()
    }


def create_celery(settings: Settings) -> Celery:
    """The Celery app on ``COPILOT_REDIS_URL`` with the copilot's queues and limits, no task registered.

    What a replica needs to send tasks by name (``TaskQueue``) and what beat needs; a worker adds the tasks
    (``channels.worker.tasks.worker_app``), so sending imports none of the channels the tasks run.
    """
    from celery import Celery
    from kombu import Queue

    url = redis_url(settings)
    limit = settings.task_time_limit
    app = Celery("copilot", broker=url, set_as_current=False)
    app.conf.update(
        task_default_queue=URGENT,
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],
        task_routes=routes(),
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=limit,
        task_soft_time_limit=max(limit - 5, 1),
        worker_prefetch_multiplier=1,  # a slow task never holds others back in a worker's buffer
        worker_proc_alive_timeout=PROCESS_START_SECONDS,  # a pool process warms up before it takes tasks
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options={"visibility_timeout": limit + 60},
        beat_schedule=beat_schedule(settings),
        timezone="UTC",
    )
    app.copilot_settings = settings  # type: ignore[attr-defined] - read by the tasks through their app
    return app
