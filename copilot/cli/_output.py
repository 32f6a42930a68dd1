"""Output helpers shared by the commands: JSON for machines, rich for people."""

from __future__ import annotations

import json
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
