"""Domain evaluation of the Odoo sandbox: operators, paths, negation, active records, companies.

Expected ids are computed from the raw dataset in plain Python (an oracle independent of the
evaluator), so the tests say what Odoo would return, not what the code happens to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from odoo_sandbox._data import load_dataset
from odoo_sandbox._security import RpcError

Call = Callable[..., Any]


def records(model: str) -> list[dict[str, Any]]:
    """The recorded records of ``model`` (oracle data)."""
    return list(load_dataset().records[model].values())


def found(call: Call, model: str, domain: list[Any], **kwargs: Any) -> list[int]:
    """Sorted ids that ``search`` returns."""
    return sorted(call(model, "search", domain, **kwargs))


def test_implicit_and_explicit_and_or(call: Call) -> None:
    pos = records("purchase.order")
    assert found(call, "purchase.order", [("state", "=", "purchase"), ("partner_id", "=", 11)]) == sorted(
        p["id"] for p in pos if p["state"] == "purchase" and p["partner_id"] == 11
    )
    assert found(call, "purchase.order", ["|", ("partner_id", "=", 11), ("partner_id", "=", 12)]) == sorted(
        p["id"] for p in pos if p["partner_id"] in (11, 12)
    )
    recorded_late = [5, 10, 2, 9, 6, 7]
    late = [
        "&", "&", ("state", "in", ["purchase", "done"]), ("date_planned", "<", "2026-11-26 16:05:05"),
        "|", ("receipt_status", "=", "pending"), ("receipt_status", "=", "partial"),
    ]  # fmt: skip
    assert call("purchase.order", "search", late, order="date_planned asc") == recorded_late


def test_not_is_pushed_into_leaves_like_odoo(call: Call) -> None:
    pos = records("purchase.order")
    assert found(call, "purchase.order", ["!", ("state", "=", "purchase")]) == sorted(
        p["id"] for p in pos if p["state"] != "purchase"
    )
    # '!' on '<' becomes '>=', which (as in SQL) does not match an empty date
    assert found(call, "purchase.order", ["!", ("receipt_status", "in", ["pending"])]) == sorted(
        p["id"] for p in pos if p["receipt_status"] != "pending"
    )
    assert found(call, "purchase.order", ["!", "|", ("partner_id", "=", 11), ("state", "=", "draft")]) == sorted(
        p["id"] for p in pos if p["partner_id"] != 11 and p["state"] != "draft"
    )
    # through a path: not any of the ticket's stage is closed (tickets without stage included)
    tickets = records("helpdesk.ticket")
    closed = {s["id"] for s in records("helpdesk.ticket.stage") if s["closed"]}
    assert found(call, "helpdesk.ticket", ["!", ("stage_id.closed", "=", True)]) == sorted(
        t["id"] for t in tickets if t["stage_id"] not in closed
    )


def test_false_comparisons(call: Call) -> None:
    tickets = records("helpdesk.ticket")
    assert found(call, "helpdesk.ticket", [("category_id", "=", False)]) == sorted(
        t["id"] for t in tickets if not t["category_id"]
    )
    assert found(call, "helpdesk.ticket", [("category_id", "!=", False)]) == sorted(
        t["id"] for t in tickets if t["category_id"]
    )
    assert found(call, "helpdesk.ticket", [("user_id", "in", [False, 2])]) == sorted(
        t["id"] for t in tickets if t["user_id"] in (False, 2)
    )
    assert found(call, "helpdesk.ticket", [("tag_ids", "=", False)]) == sorted(
        t["id"] for t in tickets if not t["tag_ids"]
    )
    pos = records("purchase.order")
    assert found(call, "purchase.order", [("receipt_status", "=", False)]) == sorted(
        p["id"] for p in pos if not p["receipt_status"]
    )
    # '!=' and 'not in' keep empty values, as Odoo adds "OR col IS NULL"
    assert found(call, "purchase.order", [("receipt_status", "!=", "pending")]) == sorted(
        p["id"] for p in pos if p["receipt_status"] != "pending"
    )
    assert found(call, "purchase.order", [("receipt_status", "not in", ["full"])]) == sorted(
        p["id"] for p in pos if p["receipt_status"] != "full"
    )


def test_comparison_operators_on_numbers_and_dates(call: Call) -> None:
    pos = records("purchase.order")
    assert found(call, "purchase.order", [("amount_total", ">", 3000)]) == sorted(
        p["id"] for p in pos if p["amount_total"] > 3000
    )
    assert found(call, "purchase.order", [("amount_total", "<=", 1335.0)]) == sorted(
        p["id"] for p in pos if p["amount_total"] <= 1335
    )
    # date/datetime strings compare as strings (ISO 'T' separators are read like PostgreSQL does)
    assert found(call, "purchase.order", [("date_planned", ">=", "2026-11-26")]) == sorted(
        p["id"] for p in pos if p["date_planned"] >= "2026-11-26"
    )
    assert found(call, "purchase.order", [("date_planned", "<", "2026-11-26T16:05:05Z")]) == sorted(
        p["id"] for p in pos if p["date_planned"] < "2026-11-26 16:05:05"
    )


def test_like_operators(call: Call) -> None:
    partners = [p for p in records("res.partner") if p["active"]]
    assert found(call, "res.partner", [("name", "ilike", "gemini")]) == sorted(
        p["id"] for p in partners if "gemini" in p["name"].lower()
    )
    assert found(call, "res.partner", [("name", "like", "gemini")]) == []  # like is case-sensitive
    assert found(call, "res.partner", [("name", "=like", "Gem%")]) == [11]
    assert found(call, "res.partner", [("name", "=ilike", "gem%")]) == [11]
    assert found(call, "res.partner", [("complete_name", "=like", "Ready Mat, _i%")]) == sorted(
        p["id"] for p in partners if p["complete_name"].startswith("Ready Mat, ") and p["name"][1:2] == "i"
    )
    emails = [p for p in partners if not (p["email"] and "example.com" in p["email"])]
    assert found(call, "res.partner", [("email", "not ilike", "EXAMPLE.COM")]) == sorted(p["id"] for p in emails)


def test_many2one_paths_and_names(call: Call) -> None:
    pos = records("purchase.order")
    gemini = sorted(p["id"] for p in pos if p["partner_id"] == 11)
    assert found(call, "purchase.order", [("partner_id.name", "=", "Gemini Furniture")]) == gemini
    assert found(call, "purchase.order", [("partner_id", "=", "Gemini Furniture")]) == gemini
    assert found(call, "purchase.order", [("partner_id", "ilike", "gemini")]) == gemini
    assert found(call, "purchase.order", [("partner_id", "not ilike", "gemini")]) == sorted(
        p["id"] for p in pos if p["partner_id"] != 11
    )
    open_tickets = found(call, "helpdesk.ticket", [("stage_id.closed", "=", False)])
    assert len(open_tickets) == 33  # the recorded search_count


def test_x2many_paths_use_any_record_semantics(call: Call) -> None:
    lines = records("purchase.order.line")
    chair = next(p["id"] for p in records("product.product") if p["default_code"] == "FURN_0269")
    assert found(call, "purchase.order", [("order_line.product_id.default_code", "=", "FURN_0269")]) == sorted(
        {line["order_id"] for line in lines if line["product_id"] == chair}
    )
    assert found(call, "purchase.order", [("order_line.product_id", "=", chair)]) == sorted(
        {line["order_id"] for line in lines if line["product_id"] == chair}
    )
    # product -> its stock moves (one2many) -> sale line -> order: products shipped on S00030
    so30 = next(s["id"] for s in records("sale.order") if s["name"] == "S00030")
    sale_lines = {line["id"] for line in records("sale.order.line") if line["order_id"] == so30}
    products = {m["product_id"] for m in records("stock.move") if m["sale_line_id"] in sale_lines}
    assert found(call, "product.product", [("stock_move_ids.sale_line_id.order_id.name", "=", "S00030")]) == sorted(
        products
    )
    assert found(call, "product.product", [("stock_move_ids.sale_line_id.order_id", "=", so30)]) == sorted(products)
    tickets = records("helpdesk.ticket")
    urgent = sorted(t["id"] for t in tickets if 4 in t["tag_ids"])
    assert found(call, "helpdesk.ticket", [("tag_ids.name", "=", "urgent")]) == urgent
    assert found(call, "helpdesk.ticket", [("tag_ids", "ilike", "urg")]) == urgent
    assert found(call, "helpdesk.ticket", [("tag_ids", "in", [4])]) == urgent
    # negative operators on x2many mean "no member matches"
    assert found(call, "helpdesk.ticket", [("tag_ids", "not in", [4])]) == sorted(
        t["id"] for t in tickets if 4 not in t["tag_ids"]
    )
    assert found(call, "helpdesk.ticket", [("tag_ids", "!=", 4)]) == sorted(
        t["id"] for t in tickets if 4 not in t["tag_ids"]
    )


def test_any_and_not_any_operators(call: Call) -> None:
    tickets = records("helpdesk.ticket")
    assert found(call, "helpdesk.ticket", [("tag_ids", "any", [("name", "in", ["urgent", "spam"])])]) == sorted(
        t["id"] for t in tickets if {4, 10} & set(t["tag_ids"])
    )
    assert found(call, "helpdesk.ticket", [("stage_id", "not any", [("closed", "=", True)])]) == sorted(
        t["id"] for t in tickets if t["stage_id"] not in (4, 5, 6)
    )


def test_hierarchy_operators(call: Call) -> None:
    partners = [p for p in records("res.partner") if p["active"]]
    gemini_family = sorted(p["id"] for p in partners if p["id"] == 11 or p["parent_id"] == 11)
    assert found(call, "res.partner", [("id", "child_of", 11)]) == gemini_family
    assert found(call, "res.partner", [("id", "child_of", "Gemini Furniture")]) == gemini_family
    assert found(call, "res.partner", [("id", "parent_of", 24)]) == [11, 24]
    tickets = records("helpdesk.ticket")
    delivery = {7, 8, 9, 10}  # Delivery Issue and its three children
    assert found(call, "helpdesk.ticket", [("category_id", "child_of", 7)]) == sorted(
        t["id"] for t in tickets if t["category_id"] in delivery
    )
    assert len(found(call, "stock.location", [("id", "child_of", 8)], login="admin")) >= 3


def test_special_leaves(call: Call) -> None:
    all_pos = found(call, "purchase.order", [])
    assert found(call, "purchase.order", [(1, "=", 1)]) == all_pos
    assert found(call, "purchase.order", [(0, "=", 1)]) == []
    assert found(call, "purchase.order", [("partner_id", "=?", False)]) == all_pos
    assert found(call, "purchase.order", [("partner_id", "=?", 11)]) == [2, 9]
    assert found(call, "purchase.order", [("id", "in", [])]) == []
    assert found(call, "purchase.order", [("state", "<>", "purchase")]) == [3, 11]


def test_active_test(call: Call) -> None:
    partners = records("res.partner")
    active = sorted(p["id"] for p in partners if p["active"])
    assert found(call, "res.partner", []) == active
    assert found(call, "res.partner", [], context={"active_test": False}) == sorted(p["id"] for p in partners)
    assert found(call, "res.partner", [("active", "=", False)]) == sorted(p["id"] for p in partners if not p["active"])
    assert found(call, "res.partner", [("active", "in", [True, False])]) == sorted(p["id"] for p in partners)
    # read() by id ignores active, as in Odoo
    assert call("res.partner", "read", [2], ["name"]) == [{"id": 2, "name": "OdooBot"}]


def test_multi_company_rule(call: Call) -> None:
    locations = records("stock.location")
    mine = sorted(loc["id"] for loc in locations if loc["active"] and loc["company_id"] in (False, 1))
    assert found(call, "stock.location", []) == mine
    assert found(call, "stock.location", [], login="admin") == sorted(loc["id"] for loc in locations if loc["active"])
    with pytest.raises(RpcError) as err:
        call("stock.warehouse", "read", [2], ["name"])
    assert err.value.name == "odoo.exceptions.AccessError" and "top-secret" in err.value.message


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([("nope", "=", 1)], "Invalid field purchase.order.nope in leaf ('nope', '=', 1)"),
        ([("partner_id.nope", "=", 1)], "Invalid field res.partner.nope in leaf ('nope', '=', 1)"),
        ([("state", "=")], "Invalid leaf ('state', '=')"),
        ([("state", "~", 1)], "Invalid leaf ('state', '~', 1)"),
        (["|", ("state", "=", "draft")], "Domain ['|', ['state', '=', 'draft']] is syntactically not correct."),
    ],
)
def test_invalid_domains_raise_value_errors(call: Call, domain: list[Any], message: str) -> None:
    with pytest.raises(RpcError) as err:
        call("purchase.order", "search", [list(t) if isinstance(t, tuple) else t for t in domain])
    assert err.value.name == "builtins.ValueError"
    assert err.value.message == message
