"""One schedule either way: APScheduler in ``copilot serve`` and Celery beat fire a control at the same cron times."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.schedules import crontab

from channels.worker.celery_app import beat_schedule, control_entries
from channels.worker.names import CONTROL_TASK
from channels.worker.tasks import run_control
from copilot.application.principals import ServiceClient
from copilot.config import load_settings
from copilot.controls.cron import cron_trigger, weekday_names
from copilot.controls.definitions import parse_definitions
from copilot.controls.model import ControlRun
from copilot.controls.scheduler import ControlScheduler, cron_fields, next_runs

MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("*", "*"),
        ("mon-fri", "mon-fri"),
    ],
)
def test_weekday_numbers_mean_what_they_mean_in_cron(field: str, names: str) -> None:
    assert weekday_names(field) == names


def _beat_matches(beat: crontab, t: datetime) -> bool:
    return (
        t.minute in beat.minute
        and t.hour in beat.hour
        and t.day in beat.day_of_month
        and t.month in beat.month_of_year
        and (t.weekday() + 1) % 7 in beat.day_of_week  # cron's numbering: 0 is Sunday
    )


@pytest.mark.parametrize("expression", ["0 7 * * 1-5", "*/30 8-17 * * 0,6", "0 0 * * */2", "15 6 1 * 7", "0 9 * * *"])
def test_apscheduler_and_celery_beat_fire_at_the_same_times(expression: str) -> None:
    end = MONDAY + timedelta(days=35)
    fires = {t for t in next_runs(expression, "UTC", MONDAY - timedelta(seconds=1), 2000) if t < end}
    beat = crontab(**cron_fields(expression))
    minutes = (MONDAY + timedelta(minutes=m) for m in range(35 * 24 * 60))
    assert fires == {t for t in minutes if _beat_matches(beat, t)}


def test_apschedulers_own_crontab_reading_would_shift_the_weekdays() -> None:
    from apscheduler.triggers.cron import CronTrigger

    theirs = CronTrigger.from_crontab("0 7 * * 1-5", timezone="UTC").get_next_fire_time(None, MONDAY)
    ours = cron_trigger("0 7 * * 1-5").get_next_fire_time(None, MONDAY)
    assert ours is not None and ours.strftime("%a %H:%M") == "Mon 07:00"
    assert theirs is not None and theirs.strftime("%a") == "Tue"  # why copilot.controls.cron exists


@pytest.mark.parametrize("bad", ["0 7 * * 8", "0 7 * * 5-1", "0 7 * *", "0 7 * * x-y-z"])
def test_a_bad_weekday_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        cron_trigger(bad)


def test_the_in_process_scheduler_has_one_cron_job_per_enabled_control() -> None:
    config = parse_definitions({"controls": {"dormant_tickets": {"enabled": False}}})
    ran: list[str] = []
    scheduler = ControlScheduler(config, ["late_pos", "dormant_tickets", "credit_hold"], ran.append)
    scheduler.start()
    try:
        assert scheduler.healthy()
        times = scheduler.next_run_times()
        assert set(times) == {"late_pos", "credit_hold"}  # orders_at_risk is not registered here; dormant is off
        late = times["late_pos"]
        assert late is not None and late.hour == 7 and late.weekday() < 5 and late > datetime.now(UTC)
    finally:
        scheduler.stop()
    assert not scheduler.healthy()
    scheduler.run_now("late_pos")  # what a job does: the facade call
    assert ran == ["late_pos"]


def test_a_failing_scheduled_run_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def fail(name: str) -> None:
        raise RuntimeError("odoo away")

    ControlScheduler(parse_definitions(), ["late_pos"], fail).run_now("late_pos")
    assert "scheduled control late_pos failed" in caplog.text


def test_beat_sends_each_enabled_control_at_its_cron_times(tmp_path: Path) -> None:
    controls = tmp_path / "controls.yaml"
    controls.write_text("controls: {ticket_aging: {enabled: false}, late_pos: {schedule: '30 6 * * 1-5'}}\n")
    settings = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6399/0", controls_file=controls)
    entries = control_entries(settings)
    assert "control ticket_aging" not in entries
    late = entries["control late_pos"]
    assert late["task"] == CONTROL_TASK and late["args"] == ["late_pos"] and late["options"]["queue"] == "batch"
    schedule = late["schedule"]
    assert schedule.hour == {6} and schedule.minute == {30} and schedule.day_of_week == {1, 2, 3, 4, 5}
    assert set(entries) <= set(beat_schedule(settings))
    off = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6399/0", controls_scheduler=False)
    assert not any(name.startswith("control ") for name in beat_schedule(off))


def test_beats_schedule_survives_its_persistent_store(tmp_path: Path) -> None:
    """`copilot beat` keeps its schedule in a shelve (pickled): an entry it cannot pickle crashes beat, and with it
    the mailbox poll (the load test found this: no email was read)."""
    import pickle

    settings = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6399/0", controls_scheduler=True)
    schedule = beat_schedule(settings)
    assert any(name.startswith("control ") for name in schedule)
    restored = pickle.loads(pickle.dumps(schedule))  # noqa: S301 - our own schedule, as beat stores it
    late = restored["control late_pos"]["schedule"]
    assert late.now().tzinfo is not None and late.day_of_week == {1, 2, 3, 4, 5}


def test_the_worker_task_runs_the_control_through_the_facade() -> None:
    calls: list[tuple[Any, str]] = []

    class Facade:
        def run_control(self, actor: Any, name: str) -> ControlRun:
            calls.append((actor, name))
            return ControlRun(control=name, ran_at=MONDAY, duration_s=0.1, findings=[])

    runtime = SimpleNamespace(pid=os.getpid(), copilot=Facade())
    task = SimpleNamespace(app=SimpleNamespace(copilot_runtime=runtime))
    assert run_control(task, "late_pos") == {  # type: ignore[arg-type]
        "status": "done", "control": "late_pos", "findings": 0, "new": 0, "worsened": 0, "closed": 0,
    }  # fmt: skip
    ((actor, name),) = calls
    assert name == "late_pos" and actor == ServiceClient.scheduler()


def test_a_due_job_runs_its_control_on_the_schedulers_thread() -> None:
    import threading

    done = threading.Event()
    ran: list[str] = []

    def run(name: str) -> None:
        ran.append(name)
        done.set()

    scheduler = ControlScheduler(parse_definitions(), ["credit_hold"], run)
    scheduler.start()
    try:
        assert scheduler._scheduler is not None
        scheduler._scheduler.modify_job("credit_hold", next_run_time=datetime.now(UTC))  # its time has come
        assert done.wait(10)
    finally:
        scheduler.stop()
    assert ran == ["credit_hold"]
