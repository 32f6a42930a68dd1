"""Prometheus metrics of one process: ``CopilotMetrics`` on a registry the composition root builds and injects."""

from copilot.observability.metrics import CopilotMetrics

__all__ = ["CopilotMetrics"]
