"""The run's options: how many inputs of each kind, how hard to push, how long to wait at most."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["LoadOptions"]


class LoadOptions(BaseModel):
    """What ``python -m benchmarks.load`` runs."""

    webhooks: int = Field(default=2000, ge=4, description="Signed webhooks (question events) to send.")
    emails: int = Field(default=500, ge=1, description="Supplier emails delivered to the Dovecot mailbox.")
    slack: int = Field(default=200, ge=1, description="Signed Slack app_mention events.")
    workers_compare: bool = Field(default=True, description="Measure 1 worker, then 2, on a share of the webhooks.")
    compare_share: float = Field(default=0.2, gt=0, lt=0.5, description="Share of the webhooks per compare phase.")
    webhook_concurrency: int = Field(default=32, ge=1, description="Webhook requests in flight at once.")
    slack_concurrency: int = Field(default=50, ge=1, description="Slack events in flight at once.")
    worker_concurrency: int = Field(default=1, ge=1, description="Task slots of each `copilot worker`.")
    embeddings: bool = Field(default=True, description="false: injection detector on rules only (no model).")
    odoo_latency_ms: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        description="How long the Odoo sandbox waits before each answer: a real Odoo 18 takes about 10 ms (p50 "
        "9.7 ms) for the question path's reads on loopback, on its own CPU; the sandbox answers in ~1 ms on the "
        "same 2 cores as everything else. 0: no wait.",
    )
    faults: bool = Field(default=True, description="SIGKILL a worker and restart a replica mid-run.")
    kill: Literal["worker", "pool"] = Field(
        default="worker",
        description="worker: SIGKILL the whole worker (its tasks come back after Redis' visibility timeout); "
        "pool: SIGKILL its pool process only (Celery requeues its task at once).",
    )
    task_time_limit: int = Field(
        default=60,
        ge=5,
        description="COPILOT_TASK_TIME_LIMIT: a killed worker's tasks come back after this + 60 s (Redis' visibility).",
    )
    keep_logs: Path | None = Field(default=None, description="Copy every process's log here at the end.")
    timeout: float = Field(default=1500.0, gt=0, description="Seconds the whole run may take at most.")

    @classmethod
    def quick(cls, **overrides: object) -> LoadOptions:
        """A small run (a test's): 100 webhooks, 25 emails, 20 Slack events; the kill hits a pool process."""
        values: dict[str, object] = {
            "webhooks": 100,
            "emails": 25,
            "slack": 20,
            "timeout": 300.0,
            "task_time_limit": 15,
            "kill": "pool",
        }
        return cls.model_validate(values | overrides)
