"""Sale order status: what was ordered, delivered, reserved, what is short and when more comes in."""

from __future__ import annotations

from collections import defaultdict

from copilot.citations import Citation
from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import _values as v
from copilot.tools._moves import MOVE_FIELDS, stock_move
from copilot.tools.addresses import escape_like
from copilot.tools.schemas import Ref, SaleOrderLineStatus, SaleOrderStatus, StockMoveInfo

__all__ = ["sale_order_status"]

SO_FIELDS = [
    "name",
    "partner_id",
    "client_order_ref",
    "state",
    "date_order",
    "commitment_date",
    "amount_total",
    "currency_id",
    "picking_ids",
]
_OPEN = ["done", "cancel", "draft"]


def sale_order_status(client: OdooClient, reference: str) -> SaleOrderStatus:
    """A sale order by its name (S00004) or the customer's reference, with delivery state per product.

    Two round trips: the order, then in one query its delivery moves and the open receipts of its products.
    """
    ref = escape_like(reference.strip())  # "S%" is a reference, not a pattern matching every order
    rows = client.search_read(
        "sale.order", ["|", ("name", "=ilike", ref), ("client_order_ref", "=ilike", ref)], SO_FIELDS, limit=2
    )
    if not rows:
        raise OdooNotFound(f"no sale order named or referenced {reference!r}", model="sale.order")
    so = rows[0]
    so_id = so["id"]
    moves = client.search_read(
        "stock.move",
        [
            "|",
            ("sale_line_id.order_id", "=", so_id),
            "&",
            "&",
            ("picking_type_id.code", "=", "incoming"),
            ("state", "not in", _OPEN),
            ("product_id.stock_move_ids.sale_line_id.order_id", "=", so_id),
        ],
        [*MOVE_FIELDS, "sale_line_id"],
        order="date asc, id asc",
    )
    delivery: dict[int, list[StockMoveInfo]] = defaultdict(list)
    incoming: dict[int, list[StockMoveInfo]] = defaultdict(list)
    for row in moves:
        info = stock_move(row)
        (delivery if row.get("sale_line_id") else incoming)[info.product.id].append(info)

    lines = [_line_status(items, incoming.get(pid, [])) for pid, items in delivery.items()]
    deliveries: dict[int, Ref] = {}
    for items in delivery.values():
        for m in items:
            if m.picking is not None:
                deliveries[m.picking.id] = m.picking
    customer = v.ref(so["partner_id"]) or Ref(id=0, name="?")
    citations = [Citation(model="sale.order", id=so_id, display_name=so["name"])]
    if customer.id:
        citations.append(Citation(model="res.partner", id=customer.id, display_name=customer.name))
    citations += [Citation(model="stock.picking", id=p.id, display_name=p.name) for p in deliveries.values()]
    for items in incoming.values():
        citations += [
            Citation(model="stock.picking", id=m.picking.id, display_name=m.picking.name) for m in items if m.picking
        ]
    return SaleOrderStatus(
        id=so_id,
        name=so["name"],
        customer=customer,
        customer_reference=v.text(so["client_order_ref"]),
        state=so["state"],
        date_order=v.when(so["date_order"]),
        commitment_date=v.when(so["commitment_date"]),
        amount_total=v.number(so["amount_total"]),
        currency=v.currency(so["currency_id"]),
        deliveries=list(deliveries.values()),
        lines=lines,
        fully_available=all(line.short <= 0 for line in lines),
        citations=list(dict.fromkeys(citations)),
    )


def _line_status(moves: list[StockMoveInfo], incoming: list[StockMoveInfo]) -> SaleOrderLineStatus:
    live = [m for m in moves if m.state != "cancel"]
    ordered = sum(m.demand for m in live)
    delivered = sum(m.quantity for m in live if m.state == "done")
    reserved = sum(m.quantity for m in live if m.state != "done")
    dates = [m.date for m in incoming if m.date is not None]
    return SaleOrderLineStatus(
        product=moves[0].product,
        ordered=ordered,
        delivered=delivered,
        reserved=reserved,
        short=max(ordered - delivered - reserved, 0.0),
        uom=moves[0].uom,
        incoming=incoming,
        expected_date=min(dates) if dates else None,
    )
