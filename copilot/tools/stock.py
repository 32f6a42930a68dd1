"""Product availability: on hand, reserved and free in internal locations, and what is coming in."""

from __future__ import annotations

from collections import defaultdict

from copilot.citations import Citation
from copilot.odoo import OdooClient
from copilot.tools import _values as v
from copilot.tools._moves import MOVE_FIELDS, stock_move
from copilot.tools.addresses import escape_like
from copilot.tools.schemas import ProductAvailability, Ref, StockMoveInfo

__all__ = ["product_availability"]

QUANT_FIELDS = ["product_id", "quantity", "reserved_quantity"]


def _product_domain(path: str, query: str) -> list:
    pattern = escape_like(query)  # "%" and "_" are characters of the query, not wildcards
    return ["|", (f"{path}.default_code", "=ilike", pattern), (f"{path}.name", "ilike", pattern)]


def product_availability(client: OdooClient, query: str, *, limit: int = 10) -> list[ProductAvailability]:
    """Stock of the products whose internal reference is ``query`` or whose name contains it.

    Two round trips: quants in internal locations, then open receipts. A product with neither is absent.
    """
    q = query.strip()
    if not q:
        return []
    quants = client.search_read(
        "stock.quant",
        ["&", ("location_id.usage", "=", "internal"), *_product_domain("product_id", q)],
        QUANT_FIELDS,
    )
    moves = client.search_read(
        "stock.move",
        [
            "&",
            "&",
            ("picking_type_id.code", "=", "incoming"),
            ("state", "not in", ["done", "cancel", "draft"]),
            *_product_domain("product_id", q),
        ],
        MOVE_FIELDS,
        order="date asc, id asc",
    )
    products: dict[int, Ref] = {}
    on_hand: dict[int, float] = defaultdict(float)
    reserved: dict[int, float] = defaultdict(float)
    for row in quants:
        product = v.ref(row["product_id"])
        if product is None:
            continue
        products[product.id] = product
        on_hand[product.id] += v.number(row["quantity"])
        reserved[product.id] += v.number(row["reserved_quantity"])
    incoming: dict[int, list[StockMoveInfo]] = defaultdict(list)
    for row in moves:
        move = stock_move(row)
        if not move.product.id:
            continue
        products[move.product.id] = move.product
        incoming[move.product.id].append(move)
    out = []
    for pid, product in sorted(products.items(), key=lambda item: item[1].name)[:limit]:
        cites = [Citation(model="product.product", id=pid, display_name=product.name)]
        cites += [
            Citation(model="stock.picking", id=m.picking.id, display_name=m.picking.name)
            for m in incoming[pid]
            if m.picking
        ]
        out.append(
            ProductAvailability(
                product=product,
                on_hand=on_hand[pid],
                reserved=reserved[pid],
                available=on_hand[pid] - reserved[pid],
                uom=incoming[pid][0].uom if incoming[pid] else "Units",
                incoming=incoming[pid],
                citations=list(dict.fromkeys(cites)),
            )
        )
    return out
