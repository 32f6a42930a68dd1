"""The sandbox and the live Odoo give the tools answers of the same shape (the sandbox stays faithful)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from copilot.odoo import OdooClient
from copilot.tools import find_partners, late_purchase_orders, product_availability, sale_order_status
from odoo_sandbox import SandboxServer
from tests.conftest import make_client


def keys(value: Any) -> Any:
    """The key structure of a JSON-like value (dict keys recursively, first list item)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def _dump(value: Any) -> Any:
    return [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")


CALLS: dict[str, Callable[[OdooClient], Any]] = {
    "late purchase orders": lambda c: late_purchase_orders(c, limit=3),
    "partner lookup": lambda c: find_partners(c, "gemini"),
    "product availability": lambda c: product_availability(c, "FURN_8888"),
    "sale order status": lambda c: sale_order_status(c, "S00004"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_tool_answers_have_the_same_shape(live_client: OdooClient, name: str) -> None:
    with SandboxServer() as server:
        sandboxed = CALLS[name](make_client(server))
    live = CALLS[name](live_client)
    if not live:
        pytest.skip(f"the live database has no data for {name}")
    assert keys(_dump(live)) == keys(_dump(sandboxed))
