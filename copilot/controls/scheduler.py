"""When the controls run: their cron schedules, in-process (APScheduler) or as Celery beat entries.

One definition either way: ``copilot serve`` without ``COPILOT_REDIS_URL`` hosts a ``ControlScheduler`` (a
``BackgroundScheduler`` with one ``CronTrigger`` job per enabled control, calling the facade); with Redis,
``copilot beat`` sends a ``copilot.controls.run`` task at the same times (``channels.worker.celery_app``
builds its entries from ``cron_fields``) and a worker runs it through the same facade.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from copilot.controls.cron import cron_trigger
from copilot.controls.definitions import ControlsConfig

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

__all__ = ["ControlScheduler", "cron_fields", "next_runs", "scheduled"]

log = logging.getLogger(__name__)

#: A scheduled run may start this late (seconds) after its time (a busy or paused process), else it is skipped.
MISFIRE_GRACE = 600


def cron_fields(schedule: str) -> dict[str, str]:
    """The five fields of a cron expression by name (Celery's ``crontab`` keywords), weekdays as day names (Celery
    reads no 7 for Sunday)."""
    from copilot.controls.cron import weekday_names

    minute, hour, day_of_month, month_of_year, day_of_week = schedule.split()
    day_of_week = weekday_names(day_of_week)
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def scheduled(config: ControlsConfig, names: Iterable[str]) -> dict[str, str]:
    """The enabled controls among ``names`` (the registered ones) and their schedules."""
    known = set(names)
    return {name: d.schedule for name, d in config.enabled().items() if name in known}


def next_runs(schedule: str, timezone: str, now: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` times ``schedule`` fires after ``now``."""
    cron = cron_trigger(schedule, timezone)
    times: list[datetime] = []
    previous = None
    for _ in range(count):
        fire = cron.get_next_fire_time(previous, now)
        if fire is None:
            break
        times.append(fire)
        previous = now = fire
    return times


class ControlScheduler:
    """A ``copilot serve`` worker: runs each enabled control at its cron times with ``run(name)`` (the facade)."""

    name = "controls"

    def __init__(self, config: ControlsConfig, names: Iterable[str], run: Callable[[str], Any]) -> None:
        self.config = config
        self.jobs = scheduled(config, names)
        self._run = run
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()

    def run_now(self, name: str) -> None:
        """Run one control (what a job does); a failure is logged, never raised into the scheduler."""
        try:
            self._run(name)
        except Exception:
            log.exception("scheduled control %s failed", name)

    def start(self) -> None:
        """Start the scheduler thread with one cron job per enabled control."""
        from apscheduler.schedulers.background import BackgroundScheduler

        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                timezone=self.config.timezone,
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
            )
            for name, schedule in self.jobs.items():
                scheduler.add_job(
                    self.run_now,
                    cron_trigger(schedule, self.config.timezone),
                    args=[name],
                    id=name,
                    name=f"control {name}",
                )
            scheduler.start()
            self._scheduler = scheduler
        log.info("controls scheduled: %s", ", ".join(f"{n} ({s})" for n, s in self.jobs.items()) or "none")

    def next_run_times(self) -> dict[str, datetime | None]:
        """Each job's next run time (empty before ``start``)."""
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def stop(self, timeout: float = 25.0) -> None:
        """Stop scheduling; a run in flight finishes (its thread is waited for)."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)

    def healthy(self) -> bool:
        """True while the scheduler runs."""
        return self._scheduler is not None and self._scheduler.running
