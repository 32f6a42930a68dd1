"""The batched reads of the at-risk skill: a fixed number of calls, however many orders are open.

One read per kind of record (open deliveries, their sale lines, their orders, stock on hand, open receipts,
their purchase lines, the vendors' done receipts, the customers and the key-account partners), plus one to
narrow to some purchase or sale orders. Reads by id use ``read`` (no domain over a long id list); searches use
many2one and state leaves only. Field names are the logical (Odoo 19) ones: the client's schema map
translates them for Odoo 18.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from copilot.odoo import OdooClient
from copilot.tools._values import odoo_datetime

__all__ = ["Snapshot", "read_snapshot", "ref_id", "ref_name", "when"]

#: A move still to do (not draft: a draft receipt or delivery is not planned yet).
OPEN_MOVE_STATES = ["waiting", "confirmed", "partially_available", "assigned"]
OUT_FIELDS = [
    "sale_line_id",
    "product_id",
    "product_uom_qty",
    "product_qty",
    "quantity",
    "state",
    "date",
    "date_deadline",
    "picking_id",
    "picking_type_id",
    "move_dest_ids",
]
LINE_FIELDS = ["order_id", "product_uom_qty", "qty_delivered", "customer_lead", "price_subtotal", "name", "state"]
ORDER_FIELDS = ["name", "partner_id", "commitment_date", "date_order", "amount_untaxed", "currency_id", "state"]
QUANT_FIELDS = ["product_id", "quantity", "reserved_quantity"]
IN_FIELDS = [
    "product_id",
    "product_qty",
    "product_uom_qty",
    "product_uom",
    "date",
    "date_deadline",
    "purchase_line_id",
    "picking_id",
    "partner_id",
]
PO_LINE_FIELDS = ["order_id", "partner_id", "date_planned", "product_qty", "qty_received"]
HISTORY_FIELDS = ["partner_id", "scheduled_date", "date_deadline", "date_done"]
PARTNER_FIELDS = ["name", "commercial_partner_id"]
#: The vendors' e-mails on the POs (untrusted text: read for dates and quantities only).
MESSAGE_FIELDS = ["res_id", "date", "author_id", "email_from", "subject", "body"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What Odoo says, as read: rows by id (many2ones as ``[id, name]``), nothing interpreted yet."""

    out_moves: list[dict[str, Any]]
    lines: dict[int, dict[str, Any]]
    orders: dict[int, dict[str, Any]]
    quants: list[dict[str, Any]]
    in_moves: list[dict[str, Any]]
    po_lines: dict[int, dict[str, Any]]
    history: list[dict[str, Any]]
    partners: dict[int, dict[str, Any]]
    key_partner_ids: frozenset[int]
    #: Products the request is about (None: all); items are later kept only when they touch them.
    products: frozenset[int] | None = None
    round_trips: int = 0
    notes: list[str] = field(default_factory=list)
    #: E-mails on the open receipts' POs (``mail.message`` rows), oldest first; their authors are in ``partners``.
    messages: list[dict[str, Any]] = field(default_factory=list)


def ref_id(value: Any) -> int | None:
    """The id of a many2one ``[id, name]`` (or a bare id); None for Odoo's False."""
    if isinstance(value, list | tuple) and value:
        return int(value[0]) if value[0] else None
    if isinstance(value, int) and not isinstance(value, bool) and value:
        return value
    return None


def ref_name(value: Any) -> str:
    """The display name of a many2one ``[id, name]`` ("" when empty)."""
    if isinstance(value, list | tuple) and len(value) > 1:
        return str(value[1] or "")
    return ""


@lru_cache(maxsize=65_536)
def _parse(raw: str) -> datetime:
    return datetime.fromisoformat(raw[:19]).replace(tzinfo=UTC)


def when(value: Any) -> datetime | None:
    """An Odoo date or datetime string (naive UTC) as an aware UTC datetime; None for False."""
    if not value or not isinstance(value, str):
        return None
    try:
        return _parse(value)
    except ValueError:
        return None


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({i for v in values if (i := ref_id(v)) is not None})


def _products_of(client: OdooClient, purchase_orders: Sequence[str], sale_orders: Sequence[str]) -> set[int]:
    """The products the named POs bring and the named SOs wait for (one call per kind named)."""
    products: set[int] = set()
    if purchase_orders:
        rows = client.search_read(
            "purchase.order.line", [("order_id.name", "in", list(purchase_orders))], ["product_id"]
        )
        products |= set(_ids(r["product_id"] for r in rows))
    if sale_orders:
        rows = client.search_read(
            "stock.move", [*_open_deliveries(), ("sale_line_id.order_id.name", "in", list(sale_orders))], ["product_id"]
        )
        products |= set(_ids(r["product_id"] for r in rows))
    return products


def _open_deliveries() -> list[Any]:
    """Open moves of sale lines: the deliveries, and the pick and pack steps before them (multi-step)."""
    return [
        ("sale_line_id", "!=", False),
        ("state", "in", OPEN_MOVE_STATES),
        ("picking_type_id.code", "in", ["outgoing", "internal"]),
    ]


def read_snapshot(
    client: OdooClient,
    *,
    now: datetime,
    purchase_orders: Sequence[str] = (),
    sale_orders: Sequence[str] = (),
    key_account_tags: Sequence[str] = (),
    history_days: int = 365,
) -> Snapshot:
    """Everything the score needs, in at most 12 calls whatever the number of open orders."""
    start = client.round_trips
    products: frozenset[int] | None = None
    if purchase_orders or sale_orders:
        products = frozenset(_products_of(client, purchase_orders, sale_orders))
        if not products:
            return _empty(products, client.round_trips - start)
    product_leaf: list[Any] = [("product_id", "in", sorted(products))] if products is not None else []

    out_moves = client.search_read("stock.move", [*_open_deliveries(), *product_leaf], OUT_FIELDS)
    if not out_moves:
        return _empty(products, client.round_trips - start)
    lines = {
        r["id"]: r for r in client.read("sale.order.line", _ids(m["sale_line_id"] for m in out_moves), LINE_FIELDS)
    }
    orders = {r["id"]: r for r in client.read("sale.order", _ids(r["order_id"] for r in lines.values()), ORDER_FIELDS)}
    wanted = sorted(products) if products is not None else _ids(m["product_id"] for m in out_moves)
    quants = client.search_read(
        "stock.quant", [("product_id", "in", wanted), ("location_id.usage", "=", "internal")], QUANT_FIELDS
    )
    in_moves = client.search_read(
        "stock.move",
        [("product_id", "in", wanted), ("state", "in", OPEN_MOVE_STATES), ("picking_type_id.code", "=", "incoming")],
        IN_FIELDS,
    )
    po_ids = _ids(m["purchase_line_id"] for m in in_moves)
    po_lines = {r["id"]: r for r in client.read("purchase.order.line", po_ids, PO_LINE_FIELDS)} if po_ids else {}
    vendors = _ids([*(r["partner_id"] for r in po_lines.values()), *(m["partner_id"] for m in in_moves)])
    history: list[dict[str, Any]] = []
    if vendors:
        since = odoo_datetime(now - timedelta(days=history_days))
        history = client.search_read(
            "stock.picking",
            [
                ("picking_type_id.code", "=", "incoming"),
                ("state", "=", "done"),
                ("partner_id", "in", vendors),
                ("date_done", ">=", since),
            ],
            HISTORY_FIELDS,
        )
    messages: list[dict[str, Any]] = []
    purchase_ids = _ids(r["order_id"] for r in po_lines.values())
    if purchase_ids:
        messages = client.search_read(
            "mail.message",
            [("model", "=", "purchase.order"), ("res_id", "in", purchase_ids), ("message_type", "=", "email")],
            MESSAGE_FIELDS,
            order="date asc, id asc",
        )
    people = _ids([*(o["partner_id"] for o in orders.values()), *(m["author_id"] for m in messages), *vendors])
    partners = {r["id"]: r for r in client.read("res.partner", people, PARTNER_FIELDS)} if people else {}
    key_ids: frozenset[int] = frozenset()
    tags = [t for t in key_account_tags if t.strip()]
    if tags:
        domain: list[Any] = ["|"] * (len(tags) - 1) + [("category_id.name", "ilike", t) for t in tags]
        key_ids = frozenset(r["id"] for r in client.search_read("res.partner", domain, ["id"]))
    return Snapshot(
        out_moves=out_moves,
        lines=lines,
        orders=orders,
        quants=quants,
        in_moves=in_moves,
        po_lines=po_lines,
        history=history,
        partners=partners,
        key_partner_ids=key_ids,
        products=products,
        round_trips=client.round_trips - start,
        messages=messages,
    )


def _empty(products: frozenset[int] | None, trips: int) -> Snapshot:
    return Snapshot([], {}, {}, [], [], {}, [], {}, frozenset(), products=products, round_trips=trips)
