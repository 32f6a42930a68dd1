"""Orders at risk on the sandbox: the late POs' orders on top, explainable scores, batched reads, both Odoo series."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.odoo import OdooClient
from copilot.odoo.session import odoo_session
from copilot.skills.at_risk import AT_RISK, AtRiskInput, AtRiskQueue
from copilot.skills.base import SkillContext
from odoo_sandbox import RECORDED_AT, SandboxServer, SandboxTransport
from odoo_sandbox.scale import ScaledSandbox
from tests.conftest import make_client

NOW = RECORDED_AT.replace(tzinfo=UTC)
#: The orders waiting for the late POs (and S00004, whose tables no PO brings): the reference's truth.
LATE_PO_ORDERS = {"S00024", "S00029", "S00030", "S00004"}


def _ctx(client: OdooClient) -> SkillContext:
    return SkillContext(settings=load_settings(), client=client, now=NOW)


def _run(client: OdooClient, request: AtRiskInput | None = None) -> AtRiskQueue:
    return AT_RISK.run(_ctx(client), request or AtRiskInput())


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh in-process sandbox per test (tests here change dates and stock as an admin would)."""
    srv = SandboxServer()
    yield srv
    srv.stop()


def _admin(server: SandboxServer) -> OdooClient:
    """An administrator's client (no read-only gate): what a person changing Odoo would do."""
    transport = SandboxTransport(server, login="admin", secret="admin")
    return OdooClient(transport, gate=lambda *a: None, description="sandbox admin")


def _item(queue: AtRiskQueue, order: str) -> Any:
    return next(i for i in queue.items if i.order == order)


def test_the_orders_waiting_for_the_late_pos_rank_on_top_with_their_reasons(server: SandboxServer) -> None:
    queue = _run(make_client(server))
    top = [i.order for i in queue.items[:4]]
    assert set(top) == LATE_PO_ORDERS, [(i.order, round(i.score, 3), i.reason) for i in queue.items[:8]]
    assert [i.score for i in queue.items] == sorted((i.score for i in queue.items), reverse=True)
    s24 = _item(queue, "S00024")
    assert "P00009" in s24.purchase_orders and any("Corner Desk Right Sit" in line for line in s24.lines)
    assert "P00009" in s24.reason and "Corner Desk Right Sit" in s24.reason
    assert "P00009" in _item(queue, "S00029").purchase_orders
    assert {"P00010", "P00005"} <= set(_item(queue, "S00030").purchase_orders)
    s04 = _item(queue, "S00004")
    assert "Large Meeting Table" in s04.reason and "no" in s04.reason.lower()
    cited = {(c.model, c.display_name) for c in s24.evidence}
    assert ("sale.order", "S00024") in cited and ("purchase.order", "P00009") in cited
    assert any(model == "stock.picking" for model, _ in cited)  # the receipt
    actions = [p.get("action_type") for p in s24.proposals]
    assert "expedite" in actions and "inform_customer" in actions
    expedite = next(p for p in s24.proposals if p.get("action_type") == "expedite")
    assert expedite["po_name"] == "P00009" and len(str(expedite["message"])) >= 10
    assert queue.lines_scored >= 30 and queue.as_of == NOW.date()


def test_ready_orders_are_not_at_risk(server: SandboxServer) -> None:
    """S00022, S00023 and S00031 are reserved in full: nothing can make them miss for want of stock."""
    orders = {i.order for i in _run(make_client(server)).items}
    assert not orders & {"S00022", "S00023", "S00031"}


def test_factor_contributions_sum_to_the_risk_and_the_score_weighs_it(server: SandboxServer) -> None:
    queue = _run(make_client(server))
    assert queue.items
    for item in queue.items:
        assert sum(f.contribution for f in item.factors) == pytest.approx(item.risk, abs=1e-6)
        assert 0 < item.risk <= 1
        assert item.score == pytest.approx(item.risk * item.priority_weight, abs=1e-6)
        assert all(f.label for f in item.factors) and item.reason.endswith(".")


def test_a_line_covered_by_free_stock_is_not_at_risk(server: SandboxServer) -> None:
    before = _run(make_client(server))
    assert "S00024" in {i.order for i in before.items}
    # ten Corner Desk Right Sit (product 16) arrive on the shelf, unreserved
    _admin(server).execute(
        "stock.quant", "create", {"product_id": 16, "location_id": 8, "quantity": 10.0, "reserved_quantity": 0.0}
    )
    after = _run(make_client(server))
    assert "S00024" not in {i.order for i in after.items}


def test_a_late_po_revised_later_by_the_supplier_raises_the_risk(server: SandboxServer) -> None:
    """S00024 promised for T+5 waits on P00009 (3 days overdue); the supplier then moves it to T+9."""
    admin = _admin(server)
    promised = (RECORDED_AT + timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S")
    admin.execute("sale.order", "write", [24], {"commitment_date": promised})
    before = _item(_run(make_client(server)), "S00024")
    assert before.risk < 0.5 and not any(f.name == "supplier_revised" for f in before.factors)
    revised = (RECORDED_AT + timedelta(days=9)).strftime("%Y-%m-%d %H:%M:%S")
    [line] = admin.search_read(
        "purchase.order.line", [("order_id.name", "=", "P00009"), ("product_id", "=", 16)], ["id"]
    )
    moves = admin.search_read("stock.move", [("purchase_line_id", "=", line["id"])], ["id"])
    admin.execute("purchase.order.line", "write", [line["id"]], {"date_planned": revised})
    admin.execute("stock.move", "write", [m["id"] for m in moves], {"date": revised})
    after = _item(_run(make_client(server)), "S00024")
    assert after.risk > before.risk
    assert any(f.name == "supplier_revised" for f in after.factors)
    assert after.expected_cover is not None and after.expected_cover >= (RECORDED_AT + timedelta(days=9)).date()


def test_a_po_filter_scores_only_the_orders_that_po_feeds(server: SandboxServer) -> None:
    queue = _run(make_client(server), AtRiskInput(purchase_orders=["P00009"]))
    assert {i.order for i in queue.items} == {"S00024", "S00029"}
    one = _run(make_client(server), AtRiskInput(sale_orders=["S00030"]))
    assert [i.order for i in one.items] == ["S00030"]
    assert len(_run(make_client(server), AtRiskInput(limit=2)).items) == 2


def test_key_accounts_weigh_more(server: SandboxServer) -> None:
    plain = _item(_run(make_client(server)), "S00029")
    keyed = _item(_run(make_client(server), AtRiskInput(key_accounts=["Lumber Inc"])), "S00029")
    assert keyed.priority_weight > plain.priority_weight and keyed.risk == pytest.approx(plain.risk)
    assert any(f.name == "key_account" for f in keyed.factors) or "key account" in keyed.reason


def test_round_trips_do_not_grow_with_the_number_of_orders() -> None:
    trips = []
    for lines in (0, 300, 1200):
        srv = ScaledSandbox(lines=lines, seed=3) if lines else SandboxServer()
        try:
            client = make_client(srv)
            client.uid  # noqa: B018 - log in before counting
            before = client.round_trips
            queue = _run(client)
            trips.append(client.round_trips - before)
            assert queue.odoo_round_trips == trips[-1]
            assert queue.lines_scored >= lines
        finally:
            srv.stop()
    assert len(set(trips)) == 1 and trips[0] <= 10, trips


def test_the_scale_data_is_deterministic_and_open() -> None:
    a, b = ScaledSandbox(lines=200, seed=5), ScaledSandbox(lines=200, seed=5)
    try:
        rows_a = make_client(a).search_read("sale.order", [("state", "=", "sale")], ["name", "amount_total"])
        rows_b = make_client(b).search_read("sale.order", [("state", "=", "sale")], ["name", "amount_total"])
        assert rows_a == rows_b and len(rows_a) > 31
        queue = _run(make_client(a))
        assert queue.lines_scored >= 200 and queue.items
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("protocol", ["auto", "jsonrpc"])
def test_the_same_ranking_on_odoo_19(protocol: str) -> None:
    settings = load_settings(sandbox_odoo="odoo19", odoo_protocol=protocol, sandbox_keep_writes=False)
    with odoo_session(settings) as session:
        queue = AT_RISK.run(SkillContext(settings=settings, client=session.client, now=session.as_of), AtRiskInput())
    top = {i.order for i in queue.items[:4]}
    assert top == LATE_PO_ORDERS, [(i.order, round(i.score, 3)) for i in queue.items[:8]]
    assert "P00009" in _item(queue, "S00024").purchase_orders


def test_the_skill_is_registered() -> None:
    from copilot.skills.registry import SKILLS

    assert SKILLS["orders_at_risk"] is AT_RISK
    assert datetime  # keep the import for annotations


def test_stock_reserved_by_the_pick_of_a_two_step_delivery_covers_the_line(server: SandboxServer) -> None:
    """Pick then ship: the ship move waits (nothing reserved on it) while the pick holds the stock."""
    admin = _admin(server)
    pick = admin.execute(
        "stock.move",
        "create",
        {
            "name": "Pick Corner Desk Right Sit",
            "product_id": 16,
            "product_uom_qty": 10.0,
            "product_qty": 10.0,
            "quantity": 10.0,
            "state": "assigned",
            "sale_line_id": 50,
            "picking_type_id": 3,
            "location_id": 8,
            "location_dest_id": 12,
            "move_dest_ids": [[6, 0, [37]]],
        },
    )
    admin.execute("stock.move", "write", [37], {"state": "waiting", "move_orig_ids": [[6, 0, [pick]]]})
    queue = _run(make_client(server))
    assert "S00024" not in {i.order for i in queue.items}
    assert "S00029" in {i.order for i in queue.items}  # the rest is unchanged


def test_proposals_are_valid_approval_payloads_or_marked_hints(server: SandboxServer) -> None:
    from pydantic import TypeAdapter

    from copilot.approvals.schemas import ActionPayload, ActionType

    payloads = TypeAdapter(ActionPayload)
    known = {a.value for a in ActionType}
    queue = _run(make_client(server))
    seen = set()
    for item in queue.items:
        for proposal in item.proposals:
            seen.add(proposal["action_type"])
            if proposal["action_type"] in known:
                payloads.validate_python(proposal)  # what copilot.approvals accepts
            else:
                assert proposal.get("hint") is True
    assert {"expedite", "change_so_commitment", "inform_customer"} <= seen
    s04 = _item(queue, "S00004")  # the tables have no cover: no new date can be promised
    assert not any(p["action_type"] == "change_so_commitment" for p in s04.proposals)
