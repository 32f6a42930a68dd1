"""``ControlMetrics``: the scheduled controls' metrics, registered on the process's registry.

The engine (``copilot.controls.engine``) updates them: exceptions opened (new or reopened) and closed, the
exceptions open now (state ``open``: neither acknowledged, snoozed nor closed) and the age of the oldest, each
run by outcome and its duration. Names are stable (dashboards and alert rules use them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from copilot.controls.model import SEVERITIES

__all__ = ["RUN_BUCKETS", "ControlMetrics", "control_metrics"]

#: Control run buckets in seconds.
RUN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class ControlMetrics:
    """The six control metrics on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.opened = Counter(
            "copilot_exceptions_opened", "Exceptions a control opened (new, or back after being closed), by severity.",
            ["control", "severity"], registry=r,
        )  # fmt: skip
        self.closed = Counter(
            "copilot_exceptions_closed", "Exceptions closed because a control's run no longer found them.",
            ["control"], registry=r,
        )  # fmt: skip
        self.open = Gauge(
            "copilot_exceptions_open", "Exceptions open now (not acknowledged, snoozed or closed), by severity.",
            ["control", "severity"], registry=r,
        )  # fmt: skip
        self.oldest_age = Gauge(
            "copilot_exception_oldest_open_age_seconds", "Age of the oldest open exception of each control.",
            ["control"], registry=r,
        )  # fmt: skip
        self.runs = Counter(
            "copilot_control_runs", "Control runs by outcome (ok, error).", ["control", "outcome"], registry=r
        )
        self.duration = Histogram(
            "copilot_control_run_duration_seconds", "How long a control's run took (Odoo reads and the store).",
            ["control"], buckets=RUN_BUCKETS, registry=r,
        )  # fmt: skip

    def run(self, control: str, outcome: str, seconds: float) -> None:
        """Count one run and observe its duration."""
        self.runs.labels(control=control, outcome=outcome).inc()
        self.duration.labels(control=control).observe(max(0.0, seconds))

    def changes(self, control: str, opened: Iterable[str], closed: int) -> None:
        """Count the exceptions a run opened (their severities) and closed."""
        for severity in opened:
            self.opened.labels(control=control, severity=severity).inc()
        if closed:
            self.closed.labels(control=control).inc(closed)

    def open_now(
        self,
        controls: Iterable[str],
        counts: Mapping[tuple[str, str], int],
        oldest: Mapping[str, datetime],
        now: datetime,
    ) -> None:
        """Set the open gauges of ``controls`` from the store's counts and oldest first-seen times."""
        for control in controls:
            for severity in SEVERITIES:
                self.open.labels(control=control, severity=severity).set(counts.get((control, severity), 0))
            first = oldest.get(control)
            self.oldest_age.labels(control=control).set(max(0.0, (now - first).total_seconds()) if first else 0.0)


def control_metrics(metrics: Any) -> ControlMetrics:
    """The control metrics on the registry of ``metrics`` (a ``CopilotMetrics``), registered once however many
    roots share it (kept on it as ``control_metrics``)."""
    existing = getattr(metrics, "control_metrics", None)
    if isinstance(existing, ControlMetrics):
        return existing
    built = ControlMetrics(metrics.registry)
    metrics.control_metrics = built
    return built
