"""The sandbox and the live Odoo give the tools answers of the same shape (the sandbox stays faithful)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from copilot.config import Settings
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


def same_shape(live: Any, sandboxed: Any) -> bool:
    """Same key structure; an empty list on either side says nothing about its items' shape."""
    if isinstance(live, dict) and isinstance(sandboxed, dict):
        return live.keys() == sandboxed.keys() and all(same_shape(live[k], sandboxed[k]) for k in live)
    if isinstance(live, list) and isinstance(sandboxed, list):
        return not live or not sandboxed or same_shape(live[0], sandboxed[0])
    return live == sandboxed


def _dump(value: Any) -> Any:
    return [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")


CALLS: dict[str, Callable[[OdooClient], Any]] = {
    "late purchase orders": lambda c: late_purchase_orders(c, limit=3),
    "partner lookup": lambda c: find_partners(c, "gemini"),
    "product availability": lambda c: product_availability(c, "FURN_8888"),
    "sale order status": lambda c: sale_order_status(c, "S00004"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_tool_answers_have_the_same_shape(
    live_client: OdooClient, live_settings: Settings, live_series: int, name: str
) -> None:
    # the sandbox of the live server's series, reached the way the live one is (JSON-2 with the sandbox's own key)
    overrides: dict[str, Any] = {"odoo_protocol": live_settings.odoo_protocol}
    if live_settings.odoo_api_key is not None:
        overrides["odoo_api_key"] = "sandbox-copilot-api-key"
    with SandboxServer(odoo=f"odoo{live_series}") as server:
        sandboxed = CALLS[name](make_client(server, **overrides))
    live = CALLS[name](live_client)
    if not live:
        pytest.skip(f"the live database has no data for {name}")
    live_shape, sandboxed_shape = keys(_dump(live)), keys(_dump(sandboxed))
    assert same_shape(live_shape, sandboxed_shape), (live_shape, sandboxed_shape)
