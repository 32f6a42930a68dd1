"""ORM methods of the Odoo sandbox: ordering, read, read_group, name_search, fields_get, writes, rights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from odoo_sandbox import APPROVAL_MODEL, RECORDED_AT, SANDBOX_USERS
from odoo_sandbox._data import Store, load_dataset
from odoo_sandbox._methods import execute_kw
from odoo_sandbox._security import RpcError

Call = Callable[..., Any]
USERS = {u.login: u for u in SANDBOX_USERS}


def error(call: Call, *args: Any, **kwargs: Any) -> RpcError:
    """The RpcError a call raises."""
    with pytest.raises(RpcError) as info:
        call(*args, **kwargs)
    return info.value


def records(model: str) -> list[dict[str, Any]]:
    """The recorded records of ``model`` (oracle data)."""
    return list(load_dataset().records[model].values())


# --------------------------------------------------------------------------- order, limit, offset


def test_default_order_is_the_models_order(call: Call) -> None:
    # purchase.order: priority desc, id desc (all priorities are '0')
    assert call("purchase.order", "search", []) == sorted((p["id"] for p in records("purchase.order")), reverse=True)
    # res.partner: complete_name asc, id desc
    names = [r["display_name"] for r in call("res.partner", "search_read", [("parent_id", "=", 11)], ["display_name"])]
    assert names == sorted(names)


def test_explicit_order_limit_offset(call: Call) -> None:
    by_name = call("purchase.order", "search", [], order="name asc")
    assert by_name == list(range(1, 13))
    assert call("purchase.order", "search", [], order="name asc", limit=3, offset=2) == [3, 4, 5]
    assert call("purchase.order", "search", [], order="name desc", limit=2) == [12, 11]
    richest = max(records("purchase.order"), key=lambda p: p["amount_total"])["id"]
    assert call("purchase.order", "search", [], order="amount_total desc, id")[0] == richest
    rows = call("helpdesk.ticket", "search_read", [], ["priority"], order="priority desc, id asc", limit=3)
    assert [r["priority"] for r in rows] == ["3", "3", "2"]
    assert call("purchase.order", "search_count", [], limit=5) == 5


def test_order_puts_empty_values_last_ascending_and_first_descending(call: Call) -> None:
    drafts = {p["id"] for p in records("purchase.order") if not p["receipt_status"]}
    ascending = call("purchase.order", "search", [], order="receipt_status asc, id")
    descending = call("purchase.order", "search", [], order="receipt_status desc, id")
    assert set(ascending[-len(drafts) :]) == drafts
    assert set(descending[: len(drafts)]) == drafts
    assert set(call("purchase.order", "search", [], order="receipt_status asc nulls first")[: len(drafts)]) == drafts


def test_order_by_many2one_follows_the_comodels_order(call: Call) -> None:
    rows = call("sale.order", "search_read", [], ["partner_id"], order="partner_id, id")
    partners = {p["id"]: p["complete_name"] for p in records("res.partner")}
    keys = [partners[r["partner_id"][0]] for r in rows]
    assert keys == sorted(keys)


def test_bad_order_is_refused(call: Call) -> None:
    err = error(call, "purchase.order", "search", [], order="name; drop table")
    assert err.name == "odoo.exceptions.UserError" and 'Invalid "order"' in err.message
    err = error(call, "purchase.order", "search", [], order="nope desc")
    assert (err.name, err.message) == ("builtins.ValueError", "Invalid field 'nope' on model 'purchase.order'")


# --------------------------------------------------------------------------- read


def test_read_values_are_shaped_like_odoo(call: Call) -> None:
    [po] = call("purchase.order", "read", [9], ["partner_id", "order_line", "amount_total", "notes", "state"])
    assert po == {
        "id": 9,
        "partner_id": [11, "Gemini Furniture"],
        "order_line": [19, 20],
        "amount_total": 12500.0,
        "notes": False,
        "state": "purchase",
    }
    [raw] = call("purchase.order", "read", [9], ["partner_id"], load=None)
    assert raw == {"id": 9, "partner_id": 11}
    assert [r["id"] for r in call("purchase.order.line", "read", [20, 19], ["name"])] == [20, 19]
    assert call("purchase.order", "read", [999999], ["name"]) == []


def test_read_without_fields_returns_every_readable_field(call: Call) -> None:
    [po] = call("purchase.order", "read", [10])
    visible = call("purchase.order", "fields_get", attributes=["type"])
    assert set(po) == set(visible)
    assert "sale_order_count" not in po  # admin-only field (sales group) hidden from the copilot
    [as_admin] = call("purchase.order", "read", [10], login="admin")
    assert "sale_order_count" in as_admin
    err = error(call, "purchase.order", "read", [10], ["sale_order_count"])
    assert err.name == "odoo.exceptions.AccessError" and "sale_order_count" in err.message


def test_invalid_field_in_read(call: Call) -> None:
    err = error(call, "purchase.order", "search_read", [], ["name", "nope"])
    assert (err.name, err.message) == ("builtins.ValueError", "Invalid field 'nope' on model 'purchase.order'")


def test_delegated_computed_and_display_name_fields(call: Call) -> None:
    [user] = call("res.users", "read", [2], ["name", "email", "tz", "display_name"])
    assert user["name"] == "Mitchell Admin" and user["display_name"] == "Mitchell Admin"
    assert user["tz"] == "Europe/Brussels"
    variant = call("product.product", "search_read", [("default_code", "=", "FURN_6667")], ["display_name", "name"])
    assert variant == [
        {"id": 32, "display_name": "[FURN_6667] Acoustic Bloc Screens (Wood)", "name": "Acoustic Bloc Screens"}
    ]
    [category] = call("helpdesk.ticket.category", "read", [18], ["display_name"])
    assert category["display_name"] == "Order Change / Rush / Expedite"
    [ptype] = call("stock.picking.type", "read", [1], ["display_name"], context={"active_test": False})
    assert ptype["display_name"] == "YourCompany: Receipts"


def test_stock_quantities_are_computed_from_quants_and_moves(call: Call) -> None:
    chair = next(p["id"] for p in records("product.product") if p["default_code"] == "FURN_0269")
    locations = {loc["id"]: loc for loc in records("stock.location")}

    def in_wh(location_id: Any) -> bool:
        return str(locations.get(location_id, {}).get("parent_path", "")).startswith("1/7/")

    on_hand = sum(q["quantity"] for q in records("stock.quant") if q["product_id"] == chair and in_wh(q["location_id"]))
    pending = [
        m for m in records("stock.move") if m["product_id"] == chair and m["state"] not in ("done", "cancel", "draft")
    ]
    incoming = sum(m["product_qty"] for m in pending if in_wh(m["location_dest_id"]) and not in_wh(m["location_id"]))
    outgoing = sum(m["product_qty"] for m in pending if in_wh(m["location_id"]) and not in_wh(m["location_dest_id"]))
    [row] = call(
        "product.product", "read", [chair], ["qty_available", "incoming_qty", "outgoing_qty", "virtual_available"]
    )
    assert row["qty_available"] == pytest.approx(on_hand)
    assert row["incoming_qty"] == pytest.approx(incoming)
    assert row["outgoing_qty"] == pytest.approx(outgoing)
    assert row["virtual_available"] == pytest.approx(on_hand + incoming - outgoing)


# --------------------------------------------------------------------------- read_group


def test_read_group_lazy_counts_per_first_groupby_only(call: Call) -> None:
    groups = call("sale.order", "read_group", [("state", "=", "sale")], ["amount_total:sum"], ["partner_id", "state"])
    first = groups[0]
    assert set(first) == {"partner_id", "partner_id_count", "amount_total", "__domain", "__context"}
    assert first["__context"] == {"group_by": ["state"]}
    assert first["__domain"] == ["&", ["state", "=", "sale"], ["partner_id", "=", first["partner_id"][0]]]
    assert sum(g["partner_id_count"] for g in groups) == 28


def test_read_group_not_lazy_counts_every_combination(call: Call) -> None:
    groups = call("sale.order", "read_group", [], ["amount_total:sum"], ["state", "partner_id"], lazy=False)
    assert all("__count" in g and "__context" not in g for g in groups)
    assert sum(g["__count"] for g in groups) == len(records("sale.order"))
    assert groups[0]["__domain"][:1] == ["&"]


def test_read_group_default_aggregator_orderby_and_limit(call: Call) -> None:
    groups = call("sale.order", "read_group", [], ["amount_total"], ["state"], orderby="amount_total desc", limit=2)
    totals = [g["amount_total"] for g in groups]
    assert len(groups) == 2 and totals == sorted(totals, reverse=True)
    assert groups[0]["state"] == "sale"


def test_read_group_by_month_and_many2many(call: Call) -> None:
    groups = call("sale.order", "read_group", [], ["amount_total:sum"], ["date_order:month"], context={"tz": "UTC"})
    assert [g["date_order:month"] for g in groups] == ["October 2026", "November 2026"]
    november = groups[1]
    assert november["__range"]["date_order:month"] == {"from": "2026-11-01 00:00:00", "to": "2026-12-01 00:00:00"}
    assert november["__domain"] == [
        "&",
        ["date_order", ">=", "2026-11-01 00:00:00"],
        ["date_order", "<", "2026-12-01 00:00:00"],
    ]
    assert sum(g["date_order_count"] for g in groups) == len(records("sale.order"))
    tags = call("helpdesk.ticket", "read_group", [], ["tag_ids"], ["tag_ids"])
    urgent = next(g for g in tags if g["tag_ids"] and g["tag_ids"][1] == "urgent")
    assert urgent["tag_ids_count"] == 3 and urgent["__domain"] == [["tag_ids", "=", 4]]
    assert tags[-1]["tag_ids"] is False  # tickets without tags come last


def test_read_group_expands_ticket_stages_with_fold(call: Call) -> None:
    groups = call("helpdesk.ticket", "read_group", [("team_id", "=", 7)], ["priority"], ["stage_id"])
    stages = [s["id"] for s in sorted(records("helpdesk.ticket.stage"), key=lambda s: (s["sequence"], s["id"]))]
    assert [g["stage_id"][0] for g in groups] == stages  # every stage, even without tickets
    assert {g["stage_id"][1]: g["__fold"] for g in groups}["Done"] is True
    counts = {g["stage_id"][0]: g["stage_id_count"] for g in groups}
    tickets = [t for t in records("helpdesk.ticket") if t["team_id"] == 7]
    assert counts == {sid: sum(1 for t in tickets if t["stage_id"] == sid) for sid in stages}


def test_read_group_without_groupby(call: Call) -> None:
    [total] = call("sale.order", "read_group", [("state", "=", "sale")], ["amount_total:sum"], [])
    assert total["__count"] == 28 and total["amount_total"] == pytest.approx(119240.5)


def test_read_group_invalid_groupby(call: Call) -> None:
    err = error(call, "sale.order", "read_group", [], ["amount_total:sum"], ["nope"])
    assert err.message == "Invalid field 'nope' on model 'sale.order'"


# --------------------------------------------------------------------------- name_search, fields_get


def test_name_search(call: Call) -> None:
    assert call("res.partner", "name_search", "ready", [], "ilike", 2) == [
        [12, "Ready Mat"],
        [22, "Ready Mat, Billy Fox"],
    ]
    assert call("res.partner", "name_search", "Ready Mat", [], "=") == [[12, "Ready Mat"]]
    assert call("res.partner", "name_search", "gemini", [("is_company", "=", False)]) == [
        [21, "Gemini Furniture, Edwin Hansen"],
        [23, "Gemini Furniture, Jesse Brown"],
        [32, "Gemini Furniture, Oscar Morgan"],
        [24, "Gemini Furniture, Soham Palmer"],
    ]
    assert len(call("res.partner", "name_search", "", limit=5)) == 5
    assert call("product.product", "name_search", "FURN_0269") == [
        [
            next(p["id"] for p in records("product.product") if p["default_code"] == "FURN_0269"),
            "[FURN_0269] Office Chair Black",
        ]
    ]
    assert call("helpdesk.ticket", "name_search", "HT00009")[0][1] == "HT00009 - Where is our order S00004?"


def test_fields_get_filters(call: Call) -> None:
    fields = call("purchase.order", "fields_get", ["state", "nope"], ["string", "type"])
    assert fields == {"state": {"string": "Status", "type": "selection"}}
    full = call("helpdesk.ticket.stage", "fields_get")
    assert {"string", "type", "store", "searchable", "sortable", "groupable", "name"} <= set(full["closed"])
    assert full["team_ids"]["relation"] == "helpdesk.ticket.team"


# --------------------------------------------------------------------------- writes and rights


def test_copilot_cannot_write_create_or_unlink(call: Call) -> None:
    write = error(call, "purchase.order", "write", [10], {"notes": "x"})
    assert write.name == "odoo.exceptions.AccessError"
    assert write.message.startswith("You are not allowed to modify 'Purchase Order' (purchase.order) records.")
    create = error(call, "res.partner", "create", {"name": "x"})
    assert create.message.startswith("You are not allowed to create 'Contact' (res.partner) records.")
    unlink = error(call, "helpdesk.ticket", "unlink", [1])
    assert unlink.message.startswith("You are not allowed to delete 'Helpdesk Ticket' (helpdesk.ticket) records.")
    post = error(call, "purchase.order", "message_post", [10], body="hello")
    assert post.name == "odoo.exceptions.AccessError"
    assert call("purchase.order", "read", [10], ["notes"]) == [{"id": 10, "notes": False}]


def test_copilot_creates_approval_requests_and_reads_them_back(call: Call) -> None:
    new_id = call(
        APPROVAL_MODEL,
        "create",
        {"name": "Accept price change on P00008", "action_type": "accept_price_change", "res_model": "purchase.order",
         "res_id": 8, "payload": {"price_unit": 312.5}, "idempotency_key": "k-1", "risk_tier": "low"},
    )  # fmt: skip
    [row] = call(APPROVAL_MODEL, "read", [new_id], ["name", "state", "requested_by_id", "create_date", "res_id"])
    assert row == {
        "id": new_id,
        "name": "Accept price change on P00008",
        "state": "pending",
        "requested_by_id": [8, "Copilot Assistant"],
        "create_date": "2026-11-26 16:05:06",  # each write moves the sandbox's write clock by a second
        "res_id": 8,
    }
    assert call(APPROVAL_MODEL, "search", [("idempotency_key", "=", "k-1")]) == [new_id]
    assert error(call, APPROVAL_MODEL, "write", [new_id], {"state": "approved"}).name == "odoo.exceptions.AccessError"
    missing = error(call, APPROVAL_MODEL, "create", {"action_type": "x"})
    assert missing.name == "odoo.exceptions.ValidationError" and "Field: Summary (name)" in missing.message


def test_admin_writes_in_memory_and_keeps_one2many_lists_in_step(call: Call) -> None:
    assert call("purchase.order.line", "write", [21], {"price_unit": 289.0}, login="admin") is True
    [line] = call("purchase.order.line", "read", [21], ["price_unit", "write_uid", "write_date"])
    assert line == {
        "id": 21,
        "price_unit": 289.0,
        "write_uid": [2, "Mitchell Admin"],
        "write_date": "2026-11-26 16:05:06",
    }
    new_line = call("purchase.order.line", "create", {"order_id": 10, "name": "extra", "product_id": 5}, login="admin")
    assert call("purchase.order", "read", [10], ["order_line"])[0]["order_line"] == [21, new_line]
    call(
        "purchase.order",
        "write",
        [10],
        {"order_line": [[0, 0, {"name": "via command", "product_id": 5}]]},
        login="admin",
    )
    lines = call("purchase.order", "read", [10], ["order_line"])[0]["order_line"]
    assert len(lines) == 3
    assert call("purchase.order.line", "unlink", [new_line], login="admin") is True
    assert new_line not in call("purchase.order", "read", [10], ["order_line"])[0]["order_line"]
    message = call("purchase.order", "message_post", [10], body="<b>ok</b>", message_type="comment", login="admin")
    assert call("purchase.order", "read", [10], ["message_ids"])[0]["message_ids"][0] == message
    [msg] = call("mail.message", "read", [message], ["body", "model", "res_id", "author_id"])
    assert msg == {"id": message, "body": "<p>&lt;b&gt;ok&lt;/b&gt;</p>", "model": "purchase.order", "res_id": 10,
                   "author_id": [3, "YourCompany, Mitchell Admin"]}  # fmt: skip
    # a fresh store (another server) still has the recorded snapshot
    fresh = Store(load_dataset())
    assert execute_kw(
        fresh, USERS["copilot"], RECORDED_AT, "purchase.order.line", "read", [[21], ["price_unit"]], {}
    ) == [{"id": 21, "price_unit": 250.5}]


def test_write_errors(call: Call) -> None:
    missing = error(call, "purchase.order", "write", [999999], {"notes": "x"}, login="admin")
    assert missing.name == "odoo.exceptions.MissingError"
    assert missing.message == "Record does not exist or has been deleted.\n(Record: purchase.order(999999,), User: 2)"
    bad = error(call, "purchase.order", "write", [10], {"nope": 1}, login="admin")
    assert bad.message == "Invalid field 'nope' on model 'purchase.order'"


def test_other_users_rights(call: Call) -> None:
    assert call("purchase.order", "write", [10], {"notes": "checked"}, login="manager") is True
    assert call("helpdesk.ticket", "write", [9], {"priority": "3"}, login="demo") is True
    portal = error(call, "purchase.order", "search_read", [], ["name"], login="portal")
    assert portal.message.startswith("You are not allowed to access 'Purchase Order' (purchase.order) records.")
    assert call("res.users", "context_get", login="portal") == {"lang": "en_US", "tz": False, "uid": 7}
    assert call("res.users", "context_get", login="admin") == {"lang": "en_US", "tz": "Europe/Brussels", "uid": 2}


def test_method_errors(call: Call) -> None:
    private = error(call, "purchase.order", "_create_picking", [10])
    assert private.message == "Private methods (such as 'purchase.order._create_picking') cannot be called remotely."
    missing = error(call, "purchase.order", "approve_price_change", [10])
    assert (missing.name, missing.message) == (
        "builtins.AttributeError",
        "The method 'purchase.order.approve_price_change' does not exist",
    )
    assert error(call, "purchase.order", "name_get", [10]).name == "builtins.AttributeError"  # gone in 18
    unknown = error(call, "purchase.approval", "search", [])
    assert (unknown.name, unknown.message) == ("odoo.exceptions.UserError", "Object purchase.approval doesn't exist")
    workflow = error(call, "purchase.order", "button_confirm", [10], login="admin")
    assert workflow.name == "odoo.exceptions.UserError" and "does not emulate" in workflow.message
    assert error(call, "purchase.order", "search", [], count=True).name == "builtins.TypeError"
