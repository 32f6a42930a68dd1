"""The facade's control use cases: authorized and audited like the others, on the composition root's engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copilot.application.principals import Person, ServiceClient
from copilot.composition import open_root
from copilot.config import load_settings
from copilot.controls.engine import ExceptionNotFound, InvalidSnooze
from copilot.controls.model import Delivery
from copilot.controls.registry import UnknownControl
from copilot.errors import AccessDenied
from copilot.service import Copilot, open_copilot


class RecordingSink:
    name = "recording"

    def __init__(self) -> None:
        self.digests: list[tuple[str, list[Delivery]]] = []

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        self.digests.append((owner, deliveries))


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def copilot(sink: RecordingSink) -> Iterator[Copilot]:
    settings = load_settings(audit_enabled=True)
    with open_root(settings, sinks=[sink]) as root, open_copilot(settings, root=root) as facade:
        yield facade


BUYER = Person(channel="slack", external_id="U1", email="buyer@example.com", role="buyer")
EVALUATOR = Person(channel="slack", external_id="U2", role="evaluator")


def test_the_scheduler_runs_a_control_and_its_new_exceptions_reach_the_sinks(
    copilot: Copilot, sink: RecordingSink
) -> None:
    run = copilot.run_control(ServiceClient.scheduler(), "late_pos")
    assert run.findings and run.odoo_round_trips == 1 and run.notified
    owner, deliveries = sink.digests[0]
    assert owner == "buyer" and {d.exception.finding.key for d in deliveries} == {f.key for f in run.findings}
    again = copilot.run_control(ServiceClient.scheduler(), "late_pos")
    assert again.deliveries == [] and len(sink.digests) == 1
    assert copilot.audit is not None
    records = copilot.audit.records()
    assert [r.skill for r in records][-2:] == ["run_control", "run_control"]


def test_a_person_lists_acknowledges_and_snoozes(copilot: Copilot) -> None:
    copilot.run_control(ServiceClient.scheduler(), "late_pos", notify=False)
    open_ = copilot.list_exceptions(BUYER, control="late_pos")
    assert open_ and [e.finding.severity for e in open_] == sorted(
        (e.finding.severity for e in open_), key=["critical", "high", "medium", "low"].index
    )
    acked = copilot.acknowledge_exception(BUYER, "late_pos", "purchase.order:9")
    assert acked.state == "acknowledged" and acked.acknowledged_by == "buyer@example.com"
    until = datetime.now(UTC) + timedelta(days=1)
    snoozed = copilot.snooze_exception(BUYER, "late_pos", "purchase.order:5", until)
    assert snoozed.state == "snoozed"
    assert [e.finding.key for e in copilot.list_exceptions(BUYER, state="acknowledged")] == ["purchase.order:9"]
    assert len(copilot.list_exceptions(BUYER, state=None)) == len(open_)
    with pytest.raises(InvalidSnooze):
        copilot.snooze_exception(BUYER, "late_pos", "purchase.order:6", datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(ExceptionNotFound):
        copilot.acknowledge_exception(BUYER, "late_pos", "purchase.order:999")


def test_a_person_in_some_companies_closes_nothing_the_scheduler_does(copilot: Copilot) -> None:
    copilot.run_control(ServiceClient.scheduler(), "late_pos", notify=False)
    engine = copilot.controls
    gone = engine.store.get("late_pos", "purchase.order:9")
    assert gone is not None
    ghost = gone.model_copy(update={"finding": gone.finding.model_copy(update={"key": "purchase.order:777"})})
    engine.store.save([ghost])  # an exception of a PO the runs no longer find (another company's, say)
    scoped = BUYER.model_copy(update={"company_ids": (1,)})
    assert copilot.run_control(scoped, "late_pos", notify=False).closed == []
    assert copilot.run_control(ServiceClient.scheduler(), "late_pos", notify=False).closed == ["purchase.order:777"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.run_control(EVALUATOR, "late_pos"),
        lambda c: c.list_exceptions(EVALUATOR),
        lambda c: c.acknowledge_exception(EVALUATOR, "late_pos", "purchase.order:9"),
        lambda c: c.snooze_exception(EVALUATOR, "late_pos", "purchase.order:9", datetime.now(UTC)),
        lambda c: c.list_exceptions(ServiceClient.api("n8n", ["summarize"])),
    ],
)
def test_who_may_not_ask_is_refused(copilot: Copilot, call: Any) -> None:
    with pytest.raises(AccessDenied):
        call(copilot)


def test_an_unknown_control_names_the_known_ones(copilot: Copilot) -> None:
    with pytest.raises(UnknownControl, match="known: late_pos"):
        copilot.run_control(ServiceClient.scheduler(), "late_po")
