"""Output helpers shared by the commands: JSON for machines, rich for people."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_json(value: Any) -> None:
    """Print a pydantic model (or a list of them, or plain data) as JSON on stdout."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    print(json.dumps(data, indent=2, ensure_ascii=False))  # noqa: T201 - the command's output


def fmt_date(value: Any) -> str:
    """A datetime as ``YYYY-MM-DD`` (or ``-``)."""
    return value.strftime("%Y-%m-%d") if value else "-"


def fmt_qty(value: float) -> str:
    """A quantity without a needless ``.0``."""
    return f"{value:g}"


def awaits_goods(state: str | None, receipt_status: str | None) -> bool:
    """A confirmed purchase order with goods still to receive: only then is a past expected date overdue."""
    return state == "purchase" and receipt_status in ("pending", "partial")


def days_overdue(value: datetime | None, today: datetime) -> int | None:
    """Whole days ``value`` lies before ``today`` (calendar dates, UTC), or ``None`` when it is not past."""
    if value is None:
        return None
    days = (today.date() - value.date()).days
    return days if days > 0 else None


def fmt_due(value: datetime | None, today: datetime, *, open_: bool = True, sep: str = " ") -> str:
    """A due date as ``YYYY-MM-DD``, with ``(overdue N d)`` when it is past and still ``open_`` (not received);
    ``sep`` goes between them (a newline puts the mark under the date in a narrow table cell)."""
    days = days_overdue(value, today) if open_ else None
    return fmt_date(value) + (f"{sep}(overdue {days} d)" if days else "")


def cell_sep(width: int = 100) -> str:
    """What separates a date from its overdue mark in a table cell: a newline on a terminal narrower than ``width``."""
    return " " if console.width >= width else "\n"


def overdue_fields(value: datetime | None, today: datetime, *, open_: bool = True) -> dict[str, Any]:
    """``overdue`` (bool) and ``days_overdue`` (int or null) for JSON output, beside the date they judge."""
    days = days_overdue(value, today) if open_ else None
    return {"overdue": days is not None, "days_overdue": days}
