"""Pydantic results of the read-only Odoo tools."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation, Ref

__all__ = [
    "ChatterMessage",
    "LatePurchaseOrder",
    "PartnerMatch",
    "ProductAvailability",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Ref",
    "SaleOrderLineStatus",
    "SaleOrderStatus",
    "StockMoveInfo",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class PurchaseOrderLine(_Result):
    """One line of a purchase order, in the purchase unit of measure."""

    id: int
    product: Ref | None
    product_code: str | None = Field(description="Internal reference, e.g. FURN_8900, parsed from the name")
    description: str
    quantity: float = Field(description="Ordered quantity (product_qty) in `uom`")
    uom: str
    quantity_received: float
    price_unit: float = Field(description="Price per `uom`, in the order currency")
    price_subtotal: float
    date_planned: datetime | None = Field(description="Expected arrival of this line (UTC)")


class PurchaseOrderStatus(_Result):
    """A purchase order with its lines, as Odoo holds it now."""

    id: int
    name: str
    vendor: Ref
    vendor_reference: str | None
    state: str = Field(description="draft, sent, to approve, purchase, done, cancel")
    date_order: datetime | None
    date_planned: datetime | None = Field(description="Expected arrival (UTC)")
    receipt_status: str | None = Field(description="pending, partial, full, or None when nothing to receive")
    effective_date: datetime | None = Field(description="When the first receipt was validated")
    amount_total: float
    currency: str
    buyer: Ref | None
    receipt_ids: list[int]
    lines: list[PurchaseOrderLine]
    citations: list[Citation]


class LatePurchaseOrder(_Result):
    """A confirmed purchase order whose expected arrival has passed with goods still to receive."""

    id: int
    name: str
    vendor: Ref
    date_planned: datetime
    days_late: int
    receipt_status: str | None
    amount_total: float
    currency: str
    buyer: Ref | None
    citation: Citation


class StockMoveInfo(_Result):
    """A stock move, reduced to what a status answer needs."""

    id: int
    product: Ref
    demand: float = Field(description="Quantity asked for, in `uom`")
    quantity: float = Field(description="Quantity reserved or done, in `uom`")
    uom: str
    state: str
    picking: Ref | None
    date: datetime | None = Field(description="Scheduled (or done) date (UTC)")


class SaleOrderLineStatus(_Result):
    """Per product on a sale order: ordered, delivered, reserved, short, and when more is expected."""

    product: Ref
    ordered: float
    delivered: float
    reserved: float
    short: float
    uom: str
    incoming: list[StockMoveInfo] = Field(description="Open receipts bringing this product in")
    expected_date: datetime | None = Field(description="Earliest open receipt date for the product (UTC)")


class SaleOrderStatus(_Result):
    """A sale order and the state of its deliveries."""

    id: int
    name: str
    customer: Ref
    customer_reference: str | None
    state: str
    date_order: datetime | None
    commitment_date: datetime | None
    amount_total: float
    currency: str
    deliveries: list[Ref]
    lines: list[SaleOrderLineStatus]
    fully_available: bool
    citations: list[Citation]


class ProductAvailability(_Result):
    """Stock of a product across internal locations, and what is coming in."""

    product: Ref
    on_hand: float
    reserved: float
    available: float
    uom: str
    incoming: list[StockMoveInfo]
    citations: list[Citation]


class PartnerMatch(_Result):
    """A partner found by name, email or reference."""

    id: int
    display_name: str
    email: str | None
    is_company: bool
    company: Ref | None
    citation: Citation


class ChatterMessage(_Result):
    """A message in a record's chatter (for example a supplier email on a PO)."""

    id: int
    date: datetime
    author: Ref | None
    email_from: str | None
    subject: str | None
    body_html: str
    message_type: str
    message_id: str | None = Field(description="The RFC 822 Message-ID, when Odoo kept one")
    model: str
    res_id: int
    record_name: str | None
    citation: Citation
