"""The run's figures: percentiles, throughput, backlog, faults and the proof, as text or JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from benchmarks.load.verify import Proof

__all__ = ["Latency", "LoadReport", "Throughput", "latency", "percentile", "render"]

SLACK_P99_TARGET_MS = 300.0
RATIO_TARGET = 1.7


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0-100) of ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class Latency(BaseModel):
    """p50/p95/p99/max in milliseconds of ``count`` measurements."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def line(self) -> str:
        """``p50 12 ms, p95 40 ms, p99 80 ms (max 120 ms, n=2,000)``."""
        return (
            f"p50 {self.p50_ms:,.0f} ms, p95 {self.p95_ms:,.0f} ms, p99 {self.p99_ms:,.0f} ms "
            f"(max {self.max_ms:,.0f} ms, n={self.count:,})"
        )


def latency(seconds: Sequence[float]) -> Latency:
    """The percentiles of durations given in seconds."""
    return Latency(
        count=len(seconds),
        p50_ms=percentile(seconds, 50) * 1000,
        p95_ms=percentile(seconds, 95) * 1000,
        p99_ms=percentile(seconds, 99) * 1000,
        max_ms=max(seconds, default=0.0) * 1000,
    )


class Throughput(BaseModel):
    """Items finished per second with ``workers`` workers: a share accepted while they were paused, drained."""

    workers: int
    items: int
    seconds: float
    per_second: float
    cpu_busy: float | None = Field(default=None, description="Share of the machine's CPU time busy (all processes).")
    cpu_ms_per_item: dict[str, float] = Field(
        default_factory=dict, description="CPU milliseconds per item by process kind (workers, sandbox, postgresql...)."
    )


class LoadReport(BaseModel):
    """Everything ``python -m benchmarks.load`` prints."""

    setup: list[str]
    notes: list[str] = Field(default_factory=list)
    one_worker: Throughput | None = None
    two_workers: Throughput | None = None
    slack_acks: Latency = Field(description="The burst of `slack_concurrency` events sent at once.")
    slack_peak_acks: Latency = Field(description="The other Slack events, sent during the peak.")
    slack_concurrency: int
    webhook_acceptance: Latency
    webhook_retries: int
    slack_retries: int
    webhook_done: Latency = Field(description="Accepted -> done, per webhook (from the ledger).")
    email_done: Latency = Field(description="Delivered to the mailbox -> done, per email.")
    backlog_max_age_s: float
    backlog_max_pending: int
    faults: list[str]
    send_failures: list[str]
    proof: Proof
    wall_seconds: float

    @property
    def ratio(self) -> float | None:
        """Throughput of 2 workers over 1."""
        if self.one_worker is None or self.two_workers is None or not self.one_worker.per_second:
            return None
        return self.two_workers.per_second / self.one_worker.per_second

    def as_json(self) -> dict[str, object]:
        """The report with its derived figures (ratio, exactly-once counts, targets)."""
        data = self.model_dump(mode="json")
        data["ratio"] = self.ratio
        data["exactly_once"] = {"once": self.proof.once, "expected": self.proof.expected, "ok": self.proof.ok}
        data["targets"] = self.targets()
        return data

    def targets(self) -> dict[str, bool | None]:
        """Each target of the issue: met, missed, or None when not measured."""
        ratio = self.ratio
        return {
            "slack_ack_p99_under_300ms": self.slack_acks.p99_ms < SLACK_P99_TARGET_MS
            if self.slack_acks.count
            else None,
            "two_workers_at_least_1.7x": ratio >= RATIO_TARGET if ratio is not None else None,
            "exactly_once": self.proof.ok,
        }


def _busy(throughput: Throughput) -> str:
    return "" if throughput.cpu_busy is None else f", CPU {throughput.cpu_busy:.0%} busy"


def _mark(value: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[value]


def render(report: LoadReport) -> str:
    """The report as lines for a terminal."""
    targets = report.targets()
    lines = [f"load test: {', '.join(report.setup)}"]
    lines += [f"note: {note}" for note in report.notes]
    if report.one_worker and report.two_workers:
        one, two = report.one_worker, report.two_workers
        lines.append(
            "throughput (webhooks queued while the workers were paused, then drained): "
            f"1 worker {one.per_second:,.1f}/s ({one.items:,} in "
            f"{one.seconds:,.1f} s{_busy(one)}), 2 workers {two.per_second:,.1f}/s ({two.items:,} in "
            f"{two.seconds:,.1f} s{_busy(two)}): "
            f"ratio {report.ratio or 0:.2f}x (target >= {RATIO_TARGET}x: {_mark(targets['two_workers_at_least_1.7x'])})"
        )
        for t in (one, two):
            if t.cpu_ms_per_item:
                split = ", ".join(f"{kind} {ms:.1f}" for kind, ms in t.cpu_ms_per_item.items())
                lines.append(f"  CPU ms per item, {t.workers} worker{'s' if t.workers > 1 else ''}: {split}")
    else:
        lines.append("throughput 1 vs 2 workers: not measured")
    lines.append(
        f"Slack acks (a burst of {report.slack_concurrency} at once): {report.slack_acks.line()}; retries "
        f"{report.slack_retries} (target p99 < {SLACK_P99_TARGET_MS:.0f} ms: "
        f"{_mark(targets['slack_ack_p99_under_300ms'])})"
    )
    if report.slack_peak_acks.count:
        lines.append(f"Slack acks during the peak (with webhooks and mail): {report.slack_peak_acks.line()}")
    lines.append(f"webhook acceptance: {report.webhook_acceptance.line()}; retries {report.webhook_retries}")
    lines.append(
        f"backlog: oldest pending webhook at most {report.backlog_max_age_s:,.1f} s old, at most "
        f"{report.backlog_max_pending:,} pending"
    )
    lines.append(f"webhook accepted -> done: {report.webhook_done.line()}")
    lines.append(f"email delivered -> done: {report.email_done.line()}")
    lines += [f"fault: {fault}" for fault in report.faults]
    proof = report.proof
    forged = (
        "refused 401, not recorded"
        if proof.forged_webhook_status == 401 and not proof.forged_webhook_recorded
        else (f"HTTP {proof.forged_webhook_status}, recorded: {proof.forged_webhook_recorded}")
    )
    lines.append(f"forged webhook: {forged}")
    unexpected = len(proof.unexpected_dead_letters)
    lines.append(
        f"dead letters: {proof.dead_letters} ({proof.dead_letters - unexpected} malformed email on purpose, "
        f"{unexpected} unexpected)"
    )
    lines += [f"  unexpected: {item}" for item in proof.unexpected_dead_letters]
    lines.append(f"failed attempts (audit records with an error, then retried or parked): {proof.failed_attempts:,}")
    for check in (proof.webhooks, proof.emails, proof.slack):
        lines.append(f"  {check.kind}: {check.once:,}/{check.expected:,} exactly once")
        for label, items in (("missing", check.missing), ("repeated", check.repeated), ("failed", check.failed)):
            lines += [f"    {label}: {item}" for item in items]
    lines += [f"send failure: {failure}" for failure in report.send_failures[:10]]
    lines.append(f"exactly once: {proof.once:,}/{proof.expected:,}")
    lines.append(f"wall time {report.wall_seconds:,.0f} s")
    return "\n".join(lines)
