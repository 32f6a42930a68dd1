"""The controls on the sandbox's recorded Odoo: what each finds, why, and in how many round trips."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.controls.approvals_waiting import ApprovalsWaiting
from copilot.controls.credit_hold import CreditHold
from copilot.controls.late_pos import LatePurchaseOrders
from copilot.controls.receipts_due import ReceiptsDueToday
from copilot.controls.tickets import DormantTickets, TicketAging
from copilot.odoo import OdooClient
from copilot.skills.base import SkillContext
from odoo_sandbox import RECORDED_AT
from tests.conftest import make_client


@pytest.fixture
def client(sandbox: Any) -> OdooClient:
    return make_client(sandbox)


def ctx(client: Any, *, days: float = 0) -> SkillContext:
    return SkillContext(settings=load_settings(), client=client, now=RECORDED_AT + timedelta(days=days))


def thresholds(control: Any, **over: Any) -> Mapping[str, Any]:
    return control.thresholds_model(**over).model_dump()


def test_late_pos_ranks_the_latest_first_in_one_round_trip(client: OdooClient) -> None:
    control = LatePurchaseOrders()
    before = client.round_trips
    findings = control.run(ctx(client), thresholds(control))
    assert client.round_trips - before == 1
    names = [f.record.display_name for f in findings if f.record]
    assert "P00009" in names and "P00012" not in names  # P00012 is fully received
    p9 = next(f for f in findings if f.key == "purchase.order:9")
    assert p9.severity == "high" and "3 days late" in p9.reason and "Gemini Furniture" in p9.title
    # the thresholds decide: with 3 days critical, P00009 (3 days late) is critical, P00006 (2 days) medium
    stricter = {f.key: f.severity for f in control.run(ctx(client), thresholds(control, critical_days=3))}
    assert stricter["purchase.order:9"] == "critical" and stricter["purchase.order:6"] == "medium"
    assert control.run(ctx(client), thresholds(control, medium_days=30, high_days=30, critical_days=30)) == []


def test_tickets_age_by_team_with_a_team_of_its_own_and_urgency(client: OdooClient) -> None:
    aging = TicketAging()
    five_days = ctx(client, days=5)
    assert aging.run(ctx(client), thresholds(aging)) == []  # created minutes before the recording
    findings = aging.run(five_days, thresholds(aging))
    assert findings and all(f.key.startswith("helpdesk.ticket:") for f in findings)
    closed_stage_tickets = {3}  # ticket 3 is in the Cancelled stage
    assert not closed_stage_tickets & {int(f.key.split(":")[1]) for f in findings}
    by_id = {int(f.key.split(":")[1]): f for f in findings}
    assert by_id[1].severity == "high"  # 120 h: past 72 h, not 168 h; priority 1
    assert by_id[5].severity == "critical" and any(x.name == "urgent" for x in by_id[5].factors)  # priority 3
    own = aging.run(five_days, {**thresholds(aging), "teams": {"Helpdesk": {"critical_hours": 100}}})
    assert {int(f.key.split(":")[1]): f.severity for f in own}[1] == "critical"
    dormant = DormantTickets()
    assert "untouched for 5 days" in dormant.run(five_days, thresholds(dormant))[0].reason


def test_receipts_due_today_lists_the_unconfirmed_receipts_of_the_day(client: OdooClient) -> None:
    control = ReceiptsDueToday()
    on_the_23rd = ctx(client, days=-3)
    findings = control.run(on_the_23rd, thresholds(control))
    assert [f.key for f in findings] == ["purchase.order:9"]  # P00012, due the same day, is fully received
    assert findings[0].severity == "medium" and "has not confirmed" in findings[0].reason
    assert control.run(ctx(client), thresholds(control)) == []
    three_days = control.run(on_the_23rd, thresholds(control, horizon_days=2))
    assert [f.key for f in three_days] == ["purchase.order:9", "purchase.order:6", "purchase.order:7"]  # 23, 24, 25


def test_credit_hold_finds_the_orders_of_a_customer_with_overdue_invoices(client: OdooClient) -> None:
    control = CreditHold()
    before = client.round_trips
    findings = control.run(ctx(client), thresholds(control))
    assert client.round_trips - before == 3
    assert sorted(f.key for f in findings) == ["sale.order:1", "sale.order:30"]  # Deco Addict, INV/2026/00004
    first = findings[0]
    assert first.severity == "high" and "15 days overdue" in first.reason
    assert any(e.model == "account.move" and e.display_name == "INV/2026/00004" for e in first.evidence)
    assert {f.severity for f in control.run(ctx(client), thresholds(control, critical_days=10))} == {"critical"}
    assert control.run(ctx(client), thresholds(control, grace_days=20)) == []


class ApprovalOdoo:
    """A client holding two pending requests, one old, one about to expire."""

    def __init__(self) -> None:
        self.domains: list[Any] = []

    def search_read(self, model: str, domain: Any, fields: Any, **_: Any) -> list[dict[str, Any]]:
        self.domains.append((model, domain))
        return [
            {"id": 1, "name": "Reschedule P00009", "action_type": "reschedule_po_line", "state": "pending",
             "create_date": "2026-11-23 16:00:00", "expires_at": False, "res_model": "purchase.order",
             "res_id": 9, "res_name": "P00009"},
            {"id": 2, "name": "Cancel S00024", "action_type": "cancel_order", "state": "pending",
             "create_date": "2026-11-26 10:00:00", "expires_at": "2026-11-26 20:00:00", "res_model": "sale.order",
             "res_id": 24, "res_name": "S00024"},
            {"id": 3, "name": "Fresh", "action_type": "cancel_order", "state": "pending",
             "create_date": "2026-11-26 15:00:00", "expires_at": False, "res_model": False, "res_id": 0,
             "res_name": False},
        ]  # fmt: skip


def test_approvals_waiting_past_their_sla_or_about_to_expire() -> None:
    control = ApprovalsWaiting()
    odoo = ApprovalOdoo()
    findings = control.run(ctx(odoo), thresholds(control, action_types={"reschedule_po_line": 12}))
    assert odoo.domains == [("copilot.approval.request", [("state", "=", "pending")])]
    by_id = {f.key: f for f in findings}
    assert set(by_id) == {"copilot.approval.request:1", "copilot.approval.request:2"}
    assert by_id["copilot.approval.request:1"].severity == "critical"  # 72 h against 12 h: past four times
    expiring = by_id["copilot.approval.request:2"]
    assert expiring.severity == "critical" and any(f.name == "expiring" for f in expiring.factors)
    assert [e.display_name for e in expiring.evidence] == ["Cancel S00024", "S00024"]
