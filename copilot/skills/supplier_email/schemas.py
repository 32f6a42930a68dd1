"""Pydantic models of the supplier-email summary: what the email says, checked against Odoo."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.prompts import PromptRef
from copilot.text.values import Money, singular_uom
from copilot.tools.schemas import Ref

__all__ = [
    "ChangeKind",
    "Delta",
    "DetectedChange",
    "EmailHeader",
    "EmailReference",
    "EmailWarning",
    "Money",
    "PromptRef",
    "Quantity",
    "ResolvedPurchaseOrder",
    "SenderStatus",
    "Severity",
    "SupplierEmailSummary",
    "WarningCode",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChangeKind(StrEnum):
    """What a supplier email announces about an order."""

    CONFIRMATION = "confirmation"
    NEW_DATE = "new_date"
    DELAY_NO_DATE = "delay_no_date"
    PARTIAL_SHIPMENT = "partial_shipment"
    SHORT_QUANTITY = "short_quantity"
    PRICE_CHANGE = "price_change"
    SUBSTITUTION = "substitution"
    CANCELLATION = "cancellation"
    PAYMENT_HOLD = "payment_hold"
    QUESTION = "question"
    DELIVERED = "delivered"
    OTHER = "other"


class Quantity(_Model):
    """A quantity in a unit of measure (Odoo's name for it when known, e.g. ``Dozens``)."""

    value: float
    uom: str | None = None

    def label(self) -> str:
        """``12 Dozens``."""
        number = f"{self.value:g}"
        if not self.uom:
            return number
        return f"{number} {singular_uom(self.uom) if self.value == 1 else self.uom}"


class Delta(_Model):
    """How the email differs from Odoo: positive days = later than Odoo expects."""

    days: int | None = None
    quantity: float | None = Field(default=None, description="Email minus Odoo, in the Odoo line's unit")
    price: float | None = Field(default=None, description="Email minus Odoo, per the Odoo line's unit")
    percent: float | None = Field(default=None, description="Price change in percent of the Odoo price")


class DetectedChange(_Model):
    """One change the email announces, compared with what Odoo holds."""

    kind: ChangeKind
    po_name: str | None = None
    product_code: str | None = None
    product: Ref | None = None
    line_id: int | None = None
    email_value: str | None = Field(default=None, description="What the email says, as text")
    odoo_value: str | None = Field(default=None, description="What Odoo holds, as text")
    email_date: date | None = None
    email_date_latest: date | None = Field(
        default=None, description="Latest date of the window the email gives (KW 51, mid-December); None: one day"
    )
    odoo_date: date | None = None
    email_quantity: Quantity | None = None
    odoo_quantity: Quantity | None = None
    backorder_quantity: Quantity | None = None
    cancelled_quantity: Quantity | None = Field(
        default=None, description="Short supply: the quantity the supplier cancels instead of backordering"
    )
    email_price: Money | None = None
    odoo_price: Money | None = None
    substitute_code: str | None = Field(default=None, description="Product code offered instead (substitution)")
    substitute_name: str | None = Field(default=None, description="Name of the product offered instead, as written")
    substitute: Ref | None = Field(default=None, description="The Odoo product offered instead, when Odoo has it")
    delta: Delta | None = None
    evidence: str = Field(description="The sentence of the email this comes from")
    matched_in_odoo: bool = Field(default=False, description="The PO (and line, if any) exists in Odoo")
    consistent_with_odoo: bool | None = Field(
        default=None, description="The email's statement of Odoo's current value agrees with Odoo (None: not stated)"
    )
    unverified: bool = Field(default=False, description="Claim from an unverified sender: confirm before acting")
    note: str = ""
    source: Literal["rules", "llm"] = "rules"


class WarningCode(StrEnum):
    """Machine-readable kind of a warning."""

    NO_PO_REFERENCE = "no_po_reference"
    PO_NOT_FOUND = "po_not_found"
    PO_NOT_CONFIRMED = "po_not_confirmed"
    PO_OTHER_VENDOR = "po_other_vendor"
    MULTIPLE_VENDORS = "multiple_vendors"
    SENDER_UNKNOWN_DOMAIN = "sender_unknown_domain"
    SENDER_NOT_A_CONTACT = "sender_not_a_contact"
    REPLY_TO_MISMATCH = "reply_to_mismatch"
    BANK_DETAILS_CHANGE = "bank_details_change"
    HIDDEN_TEXT = "hidden_text"
    AI_INSTRUCTIONS = "ai_instructions"
    AGREEMENT_CLAIM = "agreement_claim"
    INCONSISTENT_WITH_ODOO = "inconsistent_with_odoo"
    FORWARDED = "forwarded"
    FORWARD_NOT_TRUSTED = "forward_not_trusted"
    NO_SENDER = "no_sender"
    SENDER_NOT_AUTHENTICATED = "sender_not_authenticated"
    SENDER_AUTH_NOT_CONFIGURED = "sender_auth_not_configured"
    PARSE_DEFECTS = "parse_defects"


Severity = Literal["info", "warning", "critical"]
SenderStatus = Literal["known_contact", "known_domain", "other_vendor", "unknown", "no_vendor"]


class EmailWarning(_Model):
    """Something the buyer must know before acting on the email."""

    code: WarningCode
    severity: Severity
    message: str


class EmailHeader(_Model):
    """Who sent what, when."""

    subject: str
    from_name: str | None
    from_address: str | None
    date: datetime | None
    message_id: str | None


class EmailReference(_Model):
    """A document number in the email that is not one of our POs (tracking, invoice, the vendor's order)."""

    kind: Literal["tracking", "vendor_order", "invoice", "proforma", "packing_list", "lot", "other"]
    value: str
    carrier: str | None = Field(
        default=None,
        description="Tracking only: ups, fedex, dhl, dpd, gls, tnt, usps, container or bl (bill of lading)",
    )


class ResolvedPurchaseOrder(_Model):
    """A PO the email references, as Odoo holds it."""

    id: int
    name: str
    vendor: Ref
    state: str
    date_planned: datetime | None
    receipt_status: str | None
    amount_total: float
    currency: str
    citation: Citation


class SupplierEmailSummary(_Model):
    """The supplier-email skill's result."""

    email: EmailHeader
    purchase_orders: list[ResolvedPurchaseOrder] = Field(default_factory=list)
    unresolved_references: list[str] = Field(default_factory=list, description="PO-like references Odoo does not know")
    changes: list[DetectedChange] = Field(default_factory=list)
    references: list[EmailReference] = Field(default_factory=list)
    summary: str = Field(description="2-4 sentences for a buyer")
    needs_reply: bool = False
    reply_by: date | None = Field(default=None, description="Deadline the supplier gave for an answer")
    sender_status: SenderStatus = "no_vendor"
    warnings: list[str] = Field(default_factory=list, description="What the buyer must know, most severe first")
    warning_details: list[EmailWarning] = Field(
        default_factory=list, description="The same warnings with a machine-readable code and a severity"
    )
    citations: list[Citation] = Field(default_factory=list)
    engine: str = "deterministic"
    prompt: PromptRef | None = None
    fallback_reason: str | None = None

    @property
    def kinds(self) -> set[ChangeKind]:
        """The kinds of change found."""
        return {c.kind for c in self.changes}

    def warning_codes(self) -> set[WarningCode]:
        """The codes of the warnings raised."""
        return {w.code for w in self.warning_details}
