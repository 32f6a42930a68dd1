"""The per-version schema map: tools ask for logical (Odoo 19) names; an 18 server gets and returns its own."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.errors import ConfigError
from copilot.odoo import OdooClient
from copilot.odoo.schema import SCHEMAS, parse_series, schema_for


class Recorder:
    """An ``OdooTransport`` of a given version that answers each call with the fields it was asked for."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.calls: list[tuple[str, str, list[Any], dict[str, Any]]] = []

    def login(self) -> int:
        return 7

    def server_version(self) -> str:
        return self.version

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        self.calls.append((model, method, args, kwargs))
        if method == "formatted_read_group":
            return [
                {"state": "sale", "amount_total:sum": 9.0, "__count": 2, "__extra_domain": [["state", "=", "sale"]]}
            ]
        if method == "read_group":
            return [{"state": "sale", "amount_total": 9.0, "state_count": 2, "__domain": [["state", "=", "sale"]]}]
        return [{"id": 1, **{name: [1, "Units"] for name in args[1]}}]


@pytest.mark.parametrize(
    ("version", "sent"), [("18.0", "product_uom"), ("19.0", "product_uom_id"), ("saas~18.3", "product_uom")]
)
def test_a_logical_field_is_sent_under_the_servers_name_and_read_back_logically(version: str, sent: str) -> None:
    """``product_uom_id`` is asked; 18 gets ``product_uom`` in fields, domain and order; rows say ``product_uom_id``."""
    transport = Recorder(version)
    client = OdooClient(transport, retries=0)
    rows = client.search_read(
        "purchase.order.line", [("product_uom_id", "!=", False)], ["product_uom_id"], order="product_uom_id desc"
    )
    assert rows == [{"id": 1, "product_uom_id": [1, "Units"]}]
    (_, _, args, kwargs) = transport.calls[0]
    assert [list(leaf) for leaf in args[0]] == [[sent, "!=", False]] and args[1] == [sent]
    assert kwargs["order"] == f"{sent} desc"


def test_stock_move_keeps_product_uom_on_19() -> None:
    """Only the order lines were renamed: ``stock.move.product_uom`` is sent as is on both."""
    for schema in SCHEMAS.values():
        assert schema.field("stock.move", "product_uom") == "product_uom"


@pytest.mark.parametrize("version", ["18.0", "19.0"])
def test_grouped_aggregates_have_one_shape_on_both(version: str) -> None:
    """18 answers ``read_group``, 19 ``formatted_read_group`` (``read_group`` is deprecated there): same rows."""
    transport = Recorder(version)
    rows = OdooClient(transport, retries=0).read_group("sale.order", [], ["amount_total:sum"], ["state"])
    assert rows == [{"state": "sale", "amount_total:sum": 9.0, "__count": 2, "__domain": [["state", "=", "sale"]]}]
    assert transport.calls[0][1] == ("read_group" if version == "18.0" else "formatted_read_group")


def test_versions_out_of_scope_and_newer_ones() -> None:
    """17 is refused; 20 uses the newest known map (the seam: add 20 to ``SCHEMAS``)."""
    with pytest.raises(ConfigError, match="Odoo 17 is not supported"):
        schema_for("17.0")
    assert schema_for([20, 0, 0, "final", 0, ""]).series == 19
    assert parse_series("saas~19.1") == 19
    with pytest.raises(ConfigError):
        parse_series("unknown")
