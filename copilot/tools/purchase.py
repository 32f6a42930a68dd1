"""Purchase order tools: status of one or several POs, and late POs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from copilot.citations import Citation
from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.text.references import product_code
from copilot.tools import _values as v
from copilot.tools.schemas import LatePurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Ref

__all__ = ["get_purchase_orders", "late_purchase_orders", "purchase_order_status"]

PO_FIELDS = [
    "name",
    "partner_id",
    "partner_ref",
    "state",
    "date_order",
    "date_planned",
    "receipt_status",
    "effective_date",
    "amount_total",
    "currency_id",
    "user_id",
    "order_line",
    "picking_ids",
]
LINE_FIELDS = [
    "order_id",
    "product_id",
    "name",
    "product_qty",
    "product_uom_id",
    "qty_received",
    "price_unit",
    "price_subtotal",
    "date_planned",
    "display_type",
]
LATE_FIELDS = ["name", "partner_id", "date_planned", "receipt_status", "amount_total", "currency_id", "user_id"]


def get_purchase_orders(client: OdooClient, names: Sequence[str]) -> list[PurchaseOrderStatus]:
    """The purchase orders with these names (e.g. ``P00009``), with lines; unknown names are absent.

    Two round trips whatever the number of names: the orders, then all their lines.
    """
    wanted = sorted({n.strip().upper() for n in names if n and n.strip()})
    if not wanted:
        return []
    orders = client.search_read("purchase.order", [("name", "in", wanted)], PO_FIELDS, order="name asc")
    if not orders:
        return []
    ids = [o["id"] for o in orders]
    lines = client.search_read(
        "purchase.order.line", [("order_id", "in", ids)], LINE_FIELDS, order="order_id asc, sequence asc, id asc"
    )
    by_order: dict[int, list[PurchaseOrderLine]] = {i: [] for i in ids}
    for line in lines:
        if line.get("display_type"):  # section and note lines carry no product
            continue
        order = v.ref(line["order_id"])
        if order is not None and order.id in by_order:
            by_order[order.id].append(_line(line))
    return [_status(o, by_order[o["id"]]) for o in orders]


def purchase_order_status(client: OdooClient, reference: str) -> PurchaseOrderStatus:
    """One purchase order by name; raises ``OdooNotFound`` if Odoo has none."""
    found = get_purchase_orders(client, [reference])
    if not found:
        raise OdooNotFound(f"no purchase order named {reference!r}", model="purchase.order")
    return found[0]


def late_purchase_orders(
    client: OdooClient, *, as_of: datetime | None = None, vendor_id: int | None = None, limit: int = 50
) -> list[LatePurchaseOrder]:
    """Confirmed POs whose expected arrival is before ``as_of`` with goods still to receive (one round trip)."""
    now = as_of or datetime.now(UTC)
    domain: list = [
        "&",
        "&",
        ("state", "in", ["purchase", "done"]),
        ("date_planned", "<", v.odoo_datetime(now)),
        "|",
        ("receipt_status", "=", "pending"),
        ("receipt_status", "=", "partial"),
    ]
    if vendor_id is not None:
        domain = ["&", ("partner_id", "child_of", vendor_id), *domain]
    rows = client.search_read("purchase.order", domain, LATE_FIELDS, order="date_planned asc", limit=limit)
    now_utc = now if now.tzinfo else now.replace(tzinfo=UTC)
    out = []
    for row in rows:
        planned = v.when(row["date_planned"])
        assert planned is not None
        vendor = v.ref(row["partner_id"]) or Ref(id=0, name="?")
        out.append(
            LatePurchaseOrder(
                id=row["id"],
                name=row["name"],
                vendor=vendor,
                date_planned=planned,
                days_late=(now_utc.date() - planned.date()).days,
                receipt_status=v.text(row["receipt_status"]),
                amount_total=v.number(row["amount_total"]),
                currency=v.currency(row["currency_id"]),
                buyer=v.ref(row["user_id"]),
                citation=Citation(model="purchase.order", id=row["id"], display_name=row["name"]),
            )
        )
    return out


def _line(row: dict) -> PurchaseOrderLine:
    product = v.ref(row["product_id"])
    uom = v.ref(row["product_uom_id"])
    return PurchaseOrderLine(
        id=row["id"],
        product=product,
        product_code=product_code(product.name if product else None),
        description=v.text(row["name"]) or "",
        quantity=v.number(row["product_qty"]),
        uom=uom.name if uom else "",
        quantity_received=v.number(row["qty_received"]),
        price_unit=v.number(row["price_unit"]),
        price_subtotal=v.number(row["price_subtotal"]),
        date_planned=v.when(row["date_planned"]),
    )


def _status(row: dict, lines: list[PurchaseOrderLine]) -> PurchaseOrderStatus:
    vendor = v.ref(row["partner_id"]) or Ref(id=0, name="?")
    citations = [Citation(model="purchase.order", id=row["id"], display_name=row["name"])]
    if vendor.id:
        citations.append(Citation(model="res.partner", id=vendor.id, display_name=vendor.name))
    return PurchaseOrderStatus(
        id=row["id"],
        name=row["name"],
        vendor=vendor,
        vendor_reference=v.text(row["partner_ref"]),
        state=row["state"],
        date_order=v.when(row["date_order"]),
        date_planned=v.when(row["date_planned"]),
        receipt_status=v.text(row["receipt_status"]),
        effective_date=v.when(row["effective_date"]),
        amount_total=v.number(row["amount_total"]),
        currency=v.currency(row["currency_id"]),
        buyer=v.ref(row["user_id"]),
        receipt_ids=list(row.get("picking_ids") or []),
        lines=lines,
        citations=citations,
    )
