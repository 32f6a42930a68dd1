"""The controls engine: an exception is sent once, re-sent only when it worsens, and stops after acknowledge.

A scripted control stands in for Odoo (each run returns what the test says), a recording sink for Slack,
and the clock is faked: the runs happen at the times APScheduler's cron trigger of the control's schedule
gives, read from the trigger itself, never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from copilot.config import load_settings
from copilot.controls.cron import cron_trigger
from copilot.controls.definitions import parse_definitions
from copilot.controls.engine import ControlEngine, ExceptionNotFound
from copilot.controls.model import Delivery, Finding, Severity
from copilot.controls.registry import ControlRegistry
from copilot.controls.store import ExceptionStore
from copilot.observability.controls import ControlMetrics
from copilot.skills.base import SkillContext
from copilot.state import Database

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # a Monday


class Scripted:
    """A control whose next run returns ``self.findings`` (set by the test)."""

    name = "late_pos"
    description = "scripted"

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.thresholds: Mapping[str, Any] | None = None

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        self.thresholds = thresholds
        return list(self.findings)


class RecordingSink:
    """The Slack stand-in: keeps every digest it is given."""

    name = "recording"

    def __init__(self) -> None:
        self.digests: list[tuple[str, list[Delivery]]] = []

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        self.digests.append((owner, list(deliveries)))

    def sent(self) -> list[tuple[str, str]]:
        """(change, key) of everything sent, in order."""
        return [(d.change, d.exception.finding.key) for _, group in self.digests for d in group]


class FailingSink:
    name = "failing"

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        raise ConnectionError("slack is down")


class Clock:
    """A faked clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def po(key: int, severity: Severity = "medium", score: float = 0.3) -> Finding:
    return Finding(
        control="late_pos",
        key=f"purchase.order:{key}",
        severity=severity,
        score=score,
        title=f"P{key:05d}",
        reason="late",
    )


@pytest.fixture
def rig() -> Any:
    db = Database.open("sqlite://")
    control = Scripted()
    sink = RecordingSink()
    clock = Clock(START)
    registry = CollectorRegistry()
    engine = ControlEngine(
        ExceptionStore(db),
        registry=ControlRegistry([control]),
        definitions=parse_definitions({"controls": {"late_pos": {"owner": "#purchasing", "worsen_margin": 0.5}}}),
        sinks=[sink],
        metrics=ControlMetrics(registry),
        clock=clock,
    )
    ctx = SkillContext(settings=load_settings(), client=None, now=START)

    class Rig:
        pass

    r = Rig()
    r.db, r.control, r.sink, r.clock, r.engine, r.ctx, r.registry = db, control, sink, clock, engine, ctx, registry
    yield r
    db.close()


def scheduled_runs(schedule: str, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times of ``schedule`` after ``start``, from APScheduler's own cron trigger."""
    trigger = cron_trigger(schedule)
    times, previous, now = [], None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


def test_an_exception_is_sent_once_resent_only_when_it_worsens_and_stops_after_acknowledge(rig: Any) -> None:
    definition = rig.engine.definition("late_pos")
    runs = iter(scheduled_runs(definition.schedule, START, 8))

    def run_at_next_tick() -> list[tuple[str, str]]:
        rig.clock.now = next(runs)
        before = len(rig.sink.sent())
        rig.engine.run(rig.ctx, "late_pos")
        return rig.sink.sent()[before:]

    # day 1: found, sent once as new, to the control's owner
    rig.control.findings = [po(9)]
    assert run_at_next_tick() == [("new", "purchase.order:9")]
    assert rig.sink.digests[0][0] == "#purchasing"
    # day 2: the same exception, unchanged: nothing sent (no daily spam)
    assert run_at_next_tick() == []
    # day 3: slightly worse, within the margin: still nothing
    rig.control.findings = [po(9, score=0.6)]
    assert run_at_next_tick() == []
    # day 4: worse beyond the margin: re-sent as worsened
    rig.control.findings = [po(9, score=0.9)]
    assert run_at_next_tick() == [("worsened", "purchase.order:9")]
    # a person acknowledges it
    acked = rig.engine.acknowledge("late_pos", "purchase.order:9", by="buyer@example.com")
    assert acked.state == "acknowledged" and acked.acknowledged_by == "buyer@example.com"
    # day 5 and 6: it keeps getting later, same severity: never re-sent
    rig.control.findings = [po(9, score=1.5)]
    assert run_at_next_tick() == []
    rig.control.findings = [po(9, score=3.0)]
    assert run_at_next_tick() == []
    assert rig.engine.exceptions(state="acknowledged")[0].finding.score == 3.0  # tracked, silently
    # day 7: it becomes critical: a worse severity than acknowledged reopens it, sent once as worsened
    rig.control.findings = [po(9, severity="critical", score=3.5)]
    assert run_at_next_tick() == [("worsened", "purchase.order:9")]
    assert rig.engine.exceptions(state="open")[0].acknowledged_by is None
    # the runs happened at the schedule's times (07:00 Monday to Friday), from the faked clock
    days = [t.strftime("%a %H:%M") for t in scheduled_runs(definition.schedule, START, 7)]
    assert days == ["Mon 07:00", "Tue 07:00", "Wed 07:00", "Thu 07:00", "Fri 07:00", "Mon 07:00", "Tue 07:00"]
    assert rig.clock.now == datetime(2026, 12, 15, 7, 0, tzinfo=UTC)


def test_a_new_key_is_sent_beside_one_already_sent_and_the_gone_one_closes(rig: Any) -> None:
    rig.control.findings = [po(9), po(10)]
    rig.engine.run(rig.ctx, "late_pos")
    rig.clock.now += timedelta(days=1)
    rig.control.findings = [po(10), po(11, severity="high", score=0.5)]
    run = rig.engine.run(rig.ctx, "late_pos")
    assert [(d.change, d.exception.finding.key) for d in run.deliveries] == [("new", "purchase.order:11")]
    assert run.closed == ["purchase.order:9"]
    closed = rig.engine.exceptions(state="closed")
    assert [c.finding.key for c in closed] == ["purchase.order:9"] and closed[0].closed_at == rig.clock.now
    # ranked worst first
    assert [f.key for f in run.findings] == ["purchase.order:11", "purchase.order:10"]
    # a closed exception found again is new again
    rig.clock.now += timedelta(days=1)
    rig.control.findings = [po(9), po(10), po(11, severity="high", score=0.5)]
    again = rig.engine.run(rig.ctx, "late_pos")
    assert [(d.change, d.exception.finding.key) for d in again.deliveries] == [("new", "purchase.order:9")]


def test_a_snoozed_exception_is_silent_until_its_snooze_runs_out_then_sent_again(rig: Any) -> None:
    rig.control.findings = [po(9)]
    rig.engine.run(rig.ctx, "late_pos")
    until = rig.clock.now + timedelta(days=2)
    snoozed = rig.engine.snooze("late_pos", "purchase.order:9", until)
    assert snoozed.state == "snoozed" and snoozed.snoozed_until == until
    rig.clock.now += timedelta(days=1)
    rig.control.findings = [po(9, severity="high", score=2.0)]  # even worse: silent while snoozed
    assert rig.engine.run(rig.ctx, "late_pos").deliveries == []
    assert rig.engine.exceptions(state="snoozed")[0].finding.severity == "high"
    rig.clock.now = until + timedelta(minutes=1)
    run = rig.engine.run(rig.ctx, "late_pos")
    assert [(d.change, d.exception.finding.key) for d in run.deliveries] == [("new", "purchase.order:9")]
    assert rig.engine.exceptions(state="open")[0].snoozed_until is None
    rig.clock.now += timedelta(days=1)
    assert rig.engine.run(rig.ctx, "late_pos").deliveries == []  # once, not at every run after


def test_a_run_without_notify_sends_nothing_and_the_next_run_sends_it(rig: Any) -> None:
    rig.control.findings = [po(9)]
    quiet = rig.engine.run(rig.ctx, "late_pos", notify=False)
    assert not quiet.notified and [d.change for d in quiet.deliveries] == ["new"] and rig.sink.digests == []
    rig.clock.now += timedelta(hours=1)
    assert [d.change for d in rig.engine.run(rig.ctx, "late_pos").deliveries] == ["new"]
    assert rig.sink.sent() == [("new", "purchase.order:9")]


def test_a_failed_sink_leaves_the_exception_unsent_for_the_next_run(rig: Any) -> None:
    rig.engine.sinks.insert(0, FailingSink())
    rig.control.findings = [po(9)]
    rig.engine.run(rig.ctx, "late_pos")
    assert rig.engine.exceptions()[0].last_sent is None
    rig.engine.sinks.pop(0)
    rig.clock.now += timedelta(hours=1)
    rig.engine.run(rig.ctx, "late_pos")
    assert rig.sink.sent() == [("new", "purchase.order:9"), ("new", "purchase.order:9")]
    assert rig.engine.exceptions()[0].last_sent == rig.clock.now


def test_a_partial_run_closes_nothing(rig: Any) -> None:
    rig.control.findings = [po(9)]
    rig.engine.run(rig.ctx, "late_pos")
    rig.control.findings = []
    assert rig.engine.run(rig.ctx, "late_pos", closes=False).closed == []
    assert rig.engine.exceptions()[0].state == "open"


def test_acknowledging_an_unknown_exception_names_it(rig: Any) -> None:
    with pytest.raises(ExceptionNotFound, match=r"purchase\.order:404"):
        rig.engine.acknowledge("late_pos", "purchase.order:404", by="x")


def test_the_metrics_follow_the_runs(rig: Any) -> None:
    rig.control.findings = [po(9), po(10, severity="critical", score=2.0)]
    rig.engine.run(rig.ctx, "late_pos")
    value = rig.registry.get_sample_value
    assert value("copilot_exceptions_opened_total", {"control": "late_pos", "severity": "critical"}) == 1
    assert value("copilot_exceptions_open", {"control": "late_pos", "severity": "medium"}) == 1
    assert value("copilot_control_runs_total", {"control": "late_pos", "outcome": "ok"}) == 1
    assert value("copilot_control_run_duration_seconds_count", {"control": "late_pos"}) == 1
    rig.clock.now += timedelta(hours=2)
    rig.engine.acknowledge("late_pos", "purchase.order:9", by="x")
    assert value("copilot_exceptions_open", {"control": "late_pos", "severity": "medium"}) == 0
    assert value("copilot_exception_oldest_open_age_seconds", {"control": "late_pos"}) == 7200
    rig.control.findings = []
    rig.engine.run(rig.ctx, "late_pos")
    assert value("copilot_exceptions_closed_total", {"control": "late_pos"}) == 2


def test_two_roots_on_one_metrics_registry_share_the_control_metrics() -> None:
    from copilot.composition import new_metrics
    from copilot.observability.controls import control_metrics

    metrics = new_metrics()
    assert control_metrics(metrics) is control_metrics(metrics)  # registered once: no duplicate timeseries


def test_a_scoped_run_narrows_the_thresholds_and_closes_nothing_it_did_not_look_at(rig: Any) -> None:
    """A PO's date changed: the control runs on that PO's orders only, sends what is new, closes nothing else."""
    rig.control.findings = [po(9), po(10)]
    rig.engine.run(rig.ctx, "late_pos")
    rig.control.findings = [po(9, "high", 0.9)]
    run = rig.engine.run(rig.ctx, "late_pos", scope={"purchase_orders": ["P00009"]})
    assert rig.control.thresholds is not None and rig.control.thresholds["purchase_orders"] == ["P00009"]
    assert run.closed == [] and [(d.change, d.exception.finding.key) for d in run.deliveries] == [
        ("worsened", "purchase.order:9")
    ]
    assert {e.finding.key for e in rig.engine.exceptions(state="open")} == {"purchase.order:9", "purchase.order:10"}
