"""Turn Odoo's wire values (``False`` for empty, ``[id, name]`` many2ones, naive UTC strings) into Python."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from copilot.tools.schemas import Ref


def ref(value: Any) -> Ref | None:
    """A many2one ``[id, name]`` as ``Ref``; ``False`` as ``None``."""
    if isinstance(value, list | tuple) and len(value) == 2 and value[0]:
        return Ref(id=int(value[0]), name=str(value[1] or ""))
    return None


def text(value: Any) -> str | None:
    """A char/text value; Odoo's ``False`` as ``None``."""
    if value is False or value is None:
        return None
    return str(value)


def number(value: Any) -> float:
    """A float/integer/monetary value; ``False`` as ``0.0``."""
    if value is False or value is None:
        return 0.0
    return float(value)


def when(value: Any) -> datetime | None:
    """An Odoo date or datetime string (naive UTC) as an aware UTC datetime."""
    if not value:
        return None
    raw = str(value)
    fmt = "%Y-%m-%d %H:%M:%S" if len(raw) > 10 else "%Y-%m-%d"
    return datetime.strptime(raw[:19], fmt).replace(tzinfo=UTC)


def odoo_datetime(value: datetime) -> str:
    """An aware or naive-UTC datetime as the string Odoo expects in domains."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def currency(value: Any) -> str:
    """The currency code of a ``currency_id`` many2one (``USD``)."""
    r = ref(value)
    return r.name if r else ""
