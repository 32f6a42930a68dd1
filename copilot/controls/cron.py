"""Cron expressions (``minute hour day-of-month month day-of-week``) as APScheduler triggers, with cron's weekdays.

APScheduler 3's ``CronTrigger.from_crontab`` reads the day-of-week numbers its own way (0 is Monday), so
``0 7 * * 1-5`` would run Tuesday to Saturday. Here numbers mean what they mean in cron and in Celery's
``crontab`` (0 and 7 are Sunday): each numeric day-of-week item is spelt as day names before APScheduler reads
it, so one ``controls.yaml`` schedule fires at the same times in ``copilot serve`` and under ``copilot beat``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = ["cron_trigger", "weekday_names"]

#: Cron's day numbers (0 and 7: Sunday) as APScheduler's day names.
_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(item: str) -> list[int]:
    """The day numbers of one numeric item: ``3``, ``1-5``, ``*/2``, ``1-5/2``."""
    span, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"bad step in day of week {item!r}")
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        low, _, high = span.partition("-")
        first, last = int(low), int(high)
    else:
        first = last = int(span)
        if step_text:
            last = 6
    if not (0 <= first <= 7 and 0 <= last <= 7) or first > last:
        raise ValueError(f"day of week {item!r} is not within 0-7 (0 and 7: Sunday)")
    return list(range(first, last + 1, step))


def weekday_names(field: str) -> str:
    """A cron day-of-week field with its numbers spelt as day names (``1-5`` -> ``mon,tue,wed,thu,fri``)."""
    if field == "*" or any(c.isalpha() for c in field):
        return field  # every day, or names already (APScheduler reads those as cron does)
    try:
        days = sorted({_NAMES[d] for item in field.split(",") for d in _days(item)}, key=_NAMES.index)
    except ValueError as exc:
        if "invalid literal" in str(exc):
            raise ValueError(f"day of week {field!r} is not cron syntax") from None
        raise
    return ",".join(days)


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """APScheduler's trigger of a five-field cron expression, weekdays as in cron (``ValueError`` if it is not one)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday_names(day_of_week), timezone=timezone
    )
