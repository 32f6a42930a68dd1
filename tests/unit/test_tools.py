"""The read-only tools against the sandbox: right facts, citations, and at most two round trips each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from copilot.errors import MethodNotAllowed, OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import (
    find_partners,
    get_chatter_messages,
    get_partner_contacts,
    get_purchase_orders,
    late_purchase_orders,
    product_availability,
    purchase_order_status,
    recent_emails,
    sale_order_status,
)
from copilot.tools.langchain_tools import build_tools
from tests.conftest import make_client

RECORDED = datetime(2026, 11, 26, 16, 5, 5, tzinfo=UTC)


def trips(client: OdooClient, call: Any) -> tuple[Any, int]:
    before = client.round_trips
    result = call()
    return result, client.round_trips - before


def test_purchase_order_status_in_the_purchase_unit(odoo: OdooClient) -> None:
    po, n = trips(odoo, lambda: purchase_order_status(odoo, "p00009"))
    assert n == 2
    assert (po.name, po.vendor.name, po.state, po.receipt_status) == (
        "P00009",
        "Gemini Furniture",
        "purchase",
        "pending",
    )
    assert po.date_planned == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    desk = po.lines[0]
    assert (desk.product_code, desk.quantity, desk.uom, desk.price_unit) == ("E-COM09", 20.0, "Dozens", 500.0)
    assert [c.model for c in po.citations] == ["purchase.order", "res.partner"]
    assert po.buyer is not None and po.buyer.name == "Mitchell Admin"


def test_several_purchase_orders_still_cost_two_round_trips(odoo: OdooClient) -> None:
    pos, n = trips(odoo, lambda: get_purchase_orders(odoo, ["P00004", "P00007", "P99999"]))
    assert n == 2
    assert [p.name for p in pos] == ["P00004", "P00007"]
    assert all(line.product is not None for p in pos for line in p.lines)


def test_unknown_purchase_order_is_not_found(odoo: OdooClient) -> None:
    with pytest.raises(OdooNotFound, match="P99999"):
        purchase_order_status(odoo, "P99999")


def test_late_purchase_orders_as_of_the_snapshot(odoo: OdooClient) -> None:
    late, n = trips(odoo, lambda: late_purchase_orders(odoo, as_of=RECORDED))
    assert n == 1
    assert [p.name for p in late] == ["P00005", "P00010", "P00002", "P00009", "P00006", "P00007"]
    assert [p.days_late for p in late] == [6, 5, 4, 3, 2, 1]
    gemini = late_purchase_orders(odoo, as_of=RECORDED, vendor_id=11)
    assert [p.name for p in gemini] == ["P00002", "P00009"]


def test_sale_order_status_shows_what_is_short_and_when_it_comes(odoo: OdooClient) -> None:
    so, n = trips(odoo, lambda: sale_order_status(odoo, "S00004"))
    assert n == 2
    lines = {line.product.name: line for line in so.lines}
    assert not so.fully_available
    table = lines["[FURN_6741] Large Meeting Table"]
    assert (table.ordered, table.short, table.expected_date) == (3.0, 3.0, None)  # no PO exists for it
    lamp = lines["[FURN_8888] Office Lamp"]
    assert lamp.short > 0 and lamp.incoming and lamp.expected_date is not None
    assert [d.name for d in so.deliveries] == ["WH/OUT/00019"]


def test_sale_order_by_customer_reference(odoo: OdooClient) -> None:
    assert sale_order_status(odoo, "AZ-PO-4471").name == "S00027"


def test_product_availability_with_incoming_receipts(odoo: OdooClient) -> None:
    rows, n = trips(odoo, lambda: product_availability(odoo, "FURN_8888"))
    assert n == 2
    [lamp] = rows
    assert lamp.product.name == "[FURN_8888] Office Lamp"
    assert lamp.on_hand == 0.0
    assert sum(m.demand for m in lamp.incoming) == 50.0
    assert {m.picking.name for m in lamp.incoming if m.picking} == {
        "WH/IN/00008",
        "WH/IN/00009",
        "WH/IN/00011",
        "WH/IN/00012",
    }


def test_partner_lookup_and_contacts(odoo: OdooClient) -> None:
    names = [p.display_name for p in find_partners(odoo, "gemini")]
    assert names[0] == "Gemini Furniture" and "Gemini Furniture, Soham Palmer" in names
    contacts = get_partner_contacts(odoo, 11)
    assert contacts[0].is_company and all(c.company and c.company.id == 11 for c in contacts[1:])
    assert any(c.email and c.email.startswith("soham.palmer") for c in contacts)


def test_chatter_emails_of_a_purchase_order(odoo: OdooClient) -> None:
    msgs, n = trips(odoo, lambda: get_chatter_messages(odoo, "purchase.order", 10))
    assert n == 1
    assert [m.id for m in msgs] == [732, 737]
    assert msgs[1].email_from == '"Azure Interior Accounts" <accounts@azure-interior-billing.example>'
    assert len(recent_emails(odoo)) == 13


def test_langchain_tools_return_json_and_report_errors(odoo: OdooClient) -> None:
    tools = {t.name: t for t in build_tools(odoo, as_of=lambda: RECORDED)}
    assert set(tools) >= {"purchase_order_status", "late_purchase_orders", "sale_order_status", "product_availability"}
    po = tools["purchase_order_status"].invoke({"reference": "P00009"})
    assert po["name"] == "P00009" and po["lines"][0]["uom"] == "Dozens"
    late = tools["late_purchase_orders"].invoke({"vendor": "Gemini"})
    assert [p["name"] for p in late] == ["P00002", "P00009"]
    missing = tools["purchase_order_status"].invoke({"reference": "P99999"})
    assert isinstance(missing, str) and "P99999" in missing  # the agent sees the error, the process survives


def test_allow_list_holds_on_the_wire(sandbox: Any) -> None:
    client = make_client(sandbox)
    sandbox.clear_requests()
    for model, method, args in [
        ("purchase.order", "write", ([10], {"notes": "approved"})),
        ("purchase.order", "unlink", ([10],)),
        ("purchase.order", "create", ({"partner_id": 11},)),
        ("purchase.order", "button_confirm", ([10],)),
        ("res.partner", "message_post", ([11],)),
    ]:
        with pytest.raises(MethodNotAllowed):
            client.execute(model, method, *args)
    assert sandbox.requests == []  # nothing left the process, not even a login
    client.search_count("purchase.order", [])  # the log does see what is sent
    assert any(body.get("params", {}).get("method") == "execute_kw" for _, body in sandbox.requests)


def test_the_approval_request_model_is_the_only_create(sandbox: Any) -> None:
    client = make_client(sandbox)
    new_id = client.create_approval_request(
        {
            "name": "Accept price change on P00008",
            "action_type": "accept_price_change",
            "res_model": "purchase.order",
            "res_id": 8,
            "risk_tier": "low",
            "idempotency_key": "k-tools",
        }
    )
    assert new_id > 0
    with pytest.raises(MethodNotAllowed):
        client.execute("purchase.order", "create", {"partner_id": 11})


def test_a_vendor_name_that_starts_with_the_words_wins(odoo: Any) -> None:
    from copilot.tools.partner import find_vendor_id

    assert find_vendor_id(odoo, "wood") == 9  # Wood Corner, not OpenWood (first alphabetically)
    assert find_vendor_id(odoo, "open") == 13
