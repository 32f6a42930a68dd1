"""The client and its transport against HTTP recorded from a real Odoo 18 (odoo-reference transcripts)."""

from __future__ import annotations

import pytest

from copilot.errors import OdooAccessDenied, OdooAuthenticationError, OdooNotFound
from copilot.odoo import OdooClient, OdooRPCTransport
from tests.conftest import ODOO_CASSETTES

pytestmark = [pytest.mark.contract, pytest.mark.vcr]

URL = "http://127.0.0.1:8069"
NOW = "2026-11-26 16:05:05"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """The recorded transcripts live with the tests."""
    return str(ODOO_CASSETTES)


def transport(password: str = "copilot", *, user_context: bool = True) -> OdooRPCTransport:
    return OdooRPCTransport(url=URL, db="demo", login="copilot", secret=password, timeout=5, user_context=user_context)


@pytest.mark.default_cassette("04_search_read_late_purchase_orders.yaml")
def test_search_read_late_purchase_orders_replays() -> None:
    client = OdooClient(transport())
    domain = [
        "&",
        "&",
        ["state", "in", ["purchase", "done"]],
        ["date_planned", "<", NOW],
        "|",
        ["receipt_status", "=", "pending"],
        ["receipt_status", "=", "partial"],
    ]
    fields = ["name", "partner_id", "date_order", "date_planned", "state", "receipt_status", "amount_total"]
    fields += ["currency_id", "user_id"]
    rows = client.search_read("purchase.order", domain, fields, order="date_planned asc")
    assert [r["name"] for r in rows] == ["P00005", "P00010", "P00002", "P00009", "P00006", "P00007"]
    assert rows[0]["partner_id"] == [10, "Deco Addict"]
    assert client.round_trips == 1


@pytest.mark.default_cassette("10_read_nonexistent_record.yaml")
def test_read_of_a_missing_id_is_an_empty_list() -> None:
    client = OdooClient(transport())
    assert client.read("purchase.order", [999999], ["name", "state"]) == []
    assert client.search_read("purchase.order", [["id", "=", 999999]], ["name"]) == []


@pytest.mark.default_cassette("02_login_wrong_password.yaml")
def test_wrong_password_is_an_authentication_error() -> None:
    client = OdooClient(transport("not-the-password"))
    with pytest.raises(OdooAuthenticationError, match="refused the login 'copilot'"):
        client.search_count("purchase.order", [])


@pytest.mark.default_cassette("11_copilot_write_denied.yaml")
def test_odoo_access_error_maps_to_access_denied() -> None:
    # The allow-list never lets a write out; the transport alone shows how Odoo's own refusal is mapped.
    t = transport()
    with pytest.raises(OdooAccessDenied) as caught:
        t.execute_kw("purchase.order", "write", [[10], {"notes": "Price change approved by copilot"}], {})
    assert caught.value.odoo_error == "odoo.exceptions.AccessError"
    assert "not allowed to modify 'Purchase Order'" in str(caught.value)


@pytest.mark.default_cassette("13_method_not_found.yaml")
@pytest.mark.vcr(allow_playback_repeats=True)  # two transports log in twice
def test_unknown_method_and_model_map_to_not_found() -> None:
    with pytest.raises(OdooNotFound, match="approve_price_change' does not exist"):
        transport().execute_kw("purchase.order", "approve_price_change", [[10]], {})
    t = transport(user_context=False)  # the recording called odoo.execute_kw without a context here
    with pytest.raises(OdooNotFound, match=r"purchase\.approval doesn.t exist"):
        t.execute_kw("purchase.approval", "search", [[]], {})
    with pytest.raises(OdooAccessDenied, match="Private methods"):
        t.execute_kw("purchase.order", "_create_picking", [[10]], {})


# -- Odoo 19 (odoo-reference-19 transcripts): the same client and transport over the deprecated /jsonrpc ----------
ODOO19_CASSETTES = ODOO_CASSETTES.parent / "odoo19"
LINE_FIELDS_19 = ["product_id", "name", "product_qty", "product_uom_id", "qty_received", "price_unit"]
LINE_FIELDS_19 += ["price_subtotal", "date_planned"]


def transport19() -> OdooRPCTransport:
    return OdooRPCTransport(url="http://127.0.0.1:8079", db="demo19", login="copilot", secret="copilot", timeout=5)


@pytest.mark.vcr(str(ODOO19_CASSETTES / "05_read_po_then_lines.yaml"))
def test_odoo19_lines_are_read_with_19s_unit_field() -> None:
    """On 19 the client sends the logical ``product_uom_id`` as is (18 would get ``product_uom``)."""
    client = OdooClient(transport19())
    lines = client.read("purchase.order.line", [19, 20], LINE_FIELDS_19)
    assert client.schema.series == 19
    assert [(line["product_id"][1], line["product_uom_id"][1]) for line in lines] == [
        ("Large Desk (Wood)", "Dozens"),
        ("[E-COM06] Corner Desk Right Sit", "Dozens"),
    ]


@pytest.mark.vcr(str(ODOO19_CASSETTES / "11_copilot_write_denied.yaml"))
def test_odoo19_access_error_maps_to_access_denied() -> None:
    """19's JSON-RPC error envelope (``code`` 0, 19's group labels) maps as 18's does."""
    with pytest.raises(OdooAccessDenied, match="Accounting/Invoicing") as caught:
        transport19().execute_kw("purchase.order", "write", [[10], {"note": "Price change approved by copilot"}], {})
    assert caught.value.odoo_error == "odoo.exceptions.AccessError"
