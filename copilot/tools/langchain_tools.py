"""The read-only Odoo tools as LangChain tools (pydantic arguments, JSON-able pydantic results)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from copilot.errors import CopilotError, OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools.addresses import escape_like
from copilot.tools.chatter import get_chatter_messages
from copilot.tools.partner import find_partners, find_vendor_id
from copilot.tools.purchase import late_purchase_orders, purchase_order_status
from copilot.tools.sale import sale_order_status
from copilot.tools.stock import product_availability

__all__ = ["build_tools"]

_REF = r"^[\w/.\- ]+$"


class ReferenceArgs(BaseModel):
    """A document reference."""

    reference: str = Field(min_length=1, max_length=64, pattern=_REF, description="e.g. P00009 or S00004")


class LateArgs(BaseModel):
    """Filter for late purchase orders."""

    vendor: str | None = Field(default=None, max_length=128, description="Vendor name; all vendors if omitted")
    limit: int = Field(default=20, ge=1, le=100)


class QueryArgs(BaseModel):
    """A free-text search."""

    query: str = Field(min_length=1, max_length=128, description="Name, internal reference or email")


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _reporting_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn copilot failures into ``ToolException`` so the agent reads the error instead of crashing."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CopilotError as exc:
            raise ToolException(f"{type(exc).__name__}: {exc}") from exc

    return wrapper


def build_tools(client: OdooClient, *, as_of: Callable[[], datetime] | None = None) -> list[BaseTool]:
    """The read-only tools bound to ``client``; ``as_of`` gives "now" for lateness (the sandbox's snapshot)."""

    def po_status(reference: str) -> dict:
        return _dump(purchase_order_status(client, reference))

    def late_pos(vendor: str | None = None, limit: int = 20) -> list:
        vendor_id = find_vendor_id(client, vendor) if vendor else None
        return _dump(late_purchase_orders(client, as_of=as_of() if as_of else None, vendor_id=vendor_id, limit=limit))

    def so_status(reference: str) -> dict:
        return _dump(sale_order_status(client, reference))

    def availability(query: str) -> list:
        return _dump(product_availability(client, query))

    def partners(query: str) -> list:
        return _dump(find_partners(client, query))

    def po_emails(reference: str) -> list:
        rows = client.search_read("purchase.order", [("name", "=ilike", escape_like(reference))], ["name"], limit=1)
        if not rows:
            raise OdooNotFound(f"no purchase order named {reference!r}", model="purchase.order")
        return _dump(get_chatter_messages(client, "purchase.order", rows[0]["id"]))

    specs: list[tuple[Callable[..., Any], str, str, type[BaseModel]]] = [
        (po_status, "purchase_order_status", "Lines, expected dates, receipts and vendor of one PO.", ReferenceArgs),
        (late_pos, "late_purchase_orders", "Confirmed POs past their expected arrival, goods pending.", LateArgs),
        (
            so_status,
            "sale_order_status",
            "Delivery state of a sale order: shipped, reserved, short, expected.",
            ReferenceArgs,
        ),
        (availability, "product_availability", "On hand, reserved, free stock and incoming receipts.", QueryArgs),
        (partners, "find_partner", "Customers, vendors and contacts by name, email or reference.", QueryArgs),
        (
            po_emails,
            "purchase_order_emails",
            "Supplier emails logged on a purchase order, oldest first.",
            ReferenceArgs,
        ),
    ]
    return [
        StructuredTool.from_function(
            func=_reporting_errors(f), name=name, description=desc, args_schema=schema, handle_tool_error=True
        )
        for f, name, desc, schema in specs
    ]
