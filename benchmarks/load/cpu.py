"""Where the CPU goes: CPU seconds of the machine's processes by kind (worker, sandbox, PostgreSQL...).

Read from ``/proc/<pid>/stat`` (user + system time) and ``/proc/<pid>/cmdline``; a process that exited
between two readings drops out, so the figures are a lower bound for short-lived ones. Linux only (``{}``
elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["KINDS", "cpu_by_kind", "per_item_ms"]

#: Process kinds, first match on the command line wins.
KINDS: tuple[tuple[str, str], ...] = (
    ("copilot worker", "workers"),
    ("celery", "workers"),
    ("copilot sandbox", "sandbox"),
    (" sandbox ", "sandbox"),
    ("postgres", "postgresql"),
    ("redis-server", "redis"),
    ("copilot serve", "replicas"),
    (" serve ", "replicas"),
    ("uvicorn", "replicas"),
    ("benchmarks.load", "driver"),
)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _kind(cmdline: str) -> str:
    padded = f" {cmdline} "
    for needle, kind in KINDS:
        if needle in padded:
            return kind
    return "other"


def cpu_by_kind() -> dict[str, float]:
    """CPU seconds used so far by the live processes, summed by kind."""
    totals: dict[str, float] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return totals
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "(comm)": state is fields[0], utime fields[11]
        try:
            seconds = (int(fields[11]) + int(fields[12])) / _TICKS
        except (IndexError, ValueError):
            continue
        kind = _kind(cmdline or stat.split("(", 1)[-1].split(")", 1)[0])
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    """CPU milliseconds per item by kind between two readings (kinds that used none are left out)."""
    if items <= 0:
        return {}
    out = {}
    for kind in sorted(set(before) | set(after)):
        used = after.get(kind, 0.0) - before.get(kind, 0.0)
        if used > 0:
            out[kind] = round(used * 1000 / items, 2)
    return out
