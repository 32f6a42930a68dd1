"""Stock moves as ``StockMoveInfo``: shared by the sale-order and availability tools."""

from __future__ import annotations

from typing import Any

from copilot.tools import _values as v
from copilot.tools.schemas import Ref, StockMoveInfo

#: The fields ``stock_move`` needs.
MOVE_FIELDS = ["product_id", "product_uom_qty", "quantity", "product_uom", "state", "picking_id", "date"]


def stock_move(row: dict[str, Any]) -> StockMoveInfo:
    """One ``stock.move`` row as ``StockMoveInfo``."""
    uom = v.ref(row["product_uom"])
    return StockMoveInfo(
        id=row["id"],
        product=v.ref(row["product_id"]) or Ref(id=0, name="?"),
        demand=v.number(row["product_uom_qty"]),
        quantity=v.number(row["quantity"]),
        uom=uom.name if uom else "",
        state=row["state"],
        picking=v.ref(row["picking_id"]),
        date=v.when(row["date"]),
    )
