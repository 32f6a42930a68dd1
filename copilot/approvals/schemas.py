"""What a proposal is: an action type, its typed payload, the target, the diff, risk and evidence.

A ``Proposal`` is what a skill emits. It is pure data: it changes nothing. The approvals package
turns it into an approval request in Odoo (policy permitting), and only the executor, with its own
credential, acts on an approved request.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

__all__ = [
    "AcceptPriceChange",
    "ActionPayload",
    "ActionType",
    "ChangeSaleCommitment",
    "CreateReturn",
    "DiffLine",
    "Evidence",
    "Expedite",
    "IssueCreditNote",
    "Proposal",
    "ReducePurchaseLineQuantity",
    "RequestState",
    "RescheduleOrderLine",
    "RescheduleReceipt",
    "ReturnLine",
    "RiskTier",
    "SendCustomerReply",
    "SetTicketLabels",
    "SubstituteProduct",
    "Target",
]


class ActionType(StrEnum):
    """Every action the copilot can propose."""

    RESCHEDULE_PO_LINE = "reschedule_po_line"
    RESCHEDULE_RECEIPT = "reschedule_receipt"
    ACCEPT_PRICE_CHANGE = "accept_price_change"
    SUBSTITUTE_PRODUCT = "substitute_product"
    REDUCE_PO_LINE_QTY = "reduce_po_line_qty"
    EXPEDITE = "expedite"
    CHANGE_SO_COMMITMENT = "change_so_commitment"
    CREATE_RETURN = "create_return"
    ISSUE_CREDIT_NOTE = "issue_credit_note"
    SET_TICKET_LABELS = "set_ticket_labels"
    SEND_CUSTOMER_REPLY = "send_customer_reply"


class RiskTier(StrEnum):
    """How much could go wrong: high and critical need two distinct approvers."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 (low) .. 3 (critical)."""
        return list(RiskTier).index(self)


class RequestState(StrEnum):
    """An approval request's life: pending -> approved | refused | expired; approved -> executing -> done."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RescheduleOrderLine(_Payload):
    """Move the expected arrival of one purchase-order line."""

    action_type: Literal[ActionType.RESCHEDULE_PO_LINE] = ActionType.RESCHEDULE_PO_LINE
    po_id: int
    po_name: str
    line_id: int
    product: str
    old_date: datetime | None
    new_date: datetime


class RescheduleReceipt(_Payload):
    """Move the scheduled date of an incoming receipt (stock.picking)."""

    action_type: Literal[ActionType.RESCHEDULE_RECEIPT] = ActionType.RESCHEDULE_RECEIPT
    picking_id: int
    picking_name: str
    po_name: str | None = None
    line_ids: list[int] = Field(
        default_factory=list, description="The PO lines still to receive: their expected arrival moves too"
    )
    old_date: datetime | None
    new_date: datetime


class AcceptPriceChange(_Payload):
    """Accept a supplier's new unit price on a purchase-order line."""

    action_type: Literal[ActionType.ACCEPT_PRICE_CHANGE] = ActionType.ACCEPT_PRICE_CHANGE
    po_id: int
    po_name: str
    line_id: int
    product: str
    quantity: float
    old_price: float
    new_price: float
    currency: str


class SubstituteProduct(_Payload):
    """Replace the product of a purchase-order line by the substitute the supplier offers."""

    action_type: Literal[ActionType.SUBSTITUTE_PRODUCT] = ActionType.SUBSTITUTE_PRODUCT
    po_id: int
    po_name: str
    line_id: int
    old_product_id: int
    old_product: str
    new_product_id: int
    new_product: str


class ReducePurchaseLineQuantity(_Payload):
    """Lower a purchase-order line's ordered quantity to what the supplier will deliver (the rest cancelled)."""

    action_type: Literal[ActionType.REDUCE_PO_LINE_QTY] = ActionType.REDUCE_PO_LINE_QTY
    po_id: int
    po_name: str
    line_id: int
    product: str
    old_quantity: float
    new_quantity: float = Field(ge=0)
    uom: str


class Expedite(_Payload):
    """Ask the vendor to deliver sooner: a message on the PO that Odoo e-mails to the vendor."""

    action_type: Literal[ActionType.EXPEDITE] = ActionType.EXPEDITE
    po_id: int
    po_name: str
    vendor_id: int
    needed_by: date | None = None
    message: str = Field(min_length=10, max_length=4000)


class ChangeSaleCommitment(_Payload):
    """Change the delivery date promised to the customer on a sale order."""

    action_type: Literal[ActionType.CHANGE_SO_COMMITMENT] = ActionType.CHANGE_SO_COMMITMENT
    so_id: int
    so_name: str
    old_date: datetime | None
    new_date: datetime


class ReturnLine(_Payload):
    """One product and quantity to take back."""

    product_id: int
    product: str
    quantity: float = Field(gt=0)


class CreateReturn(_Payload):
    """Create a return of a done delivery (Odoo's return wizard)."""

    action_type: Literal[ActionType.CREATE_RETURN] = ActionType.CREATE_RETURN
    picking_id: int
    picking_name: str
    lines: list[ReturnLine] = Field(min_length=1)
    reason: str = Field(max_length=500)


class IssueCreditNote(_Payload):
    """Reverse a posted customer invoice into a draft credit note (Odoo's reversal wizard)."""

    action_type: Literal[ActionType.ISSUE_CREDIT_NOTE] = ActionType.ISSUE_CREDIT_NOTE
    invoice_id: int
    invoice_name: str
    amount: float = Field(gt=0, description="The invoice total being credited")
    currency: str
    reason: str = Field(max_length=500)


class SetTicketLabels(_Payload):
    """Set a helpdesk ticket's category (or type), team and/or priority."""

    action_type: Literal[ActionType.SET_TICKET_LABELS] = ActionType.SET_TICKET_LABELS
    ticket_id: int
    ticket_name: str
    values: dict[str, int | str] = Field(min_length=1)
    before: dict[str, str | None]
    after: dict[str, str]


class SendCustomerReply(_Payload):
    """Post a reply on a record's chatter; Odoo e-mails it to the named partners."""

    action_type: Literal[ActionType.SEND_CUSTOMER_REPLY] = ActionType.SEND_CUSTOMER_REPLY
    model: Literal["sale.order", "helpdesk.ticket", "account.move", "stock.picking"]
    res_id: int
    record_name: str
    partner_ids: list[int] = Field(min_length=1)
    subject: str = Field(max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


ActionPayload = Annotated[
    RescheduleOrderLine
    | RescheduleReceipt
    | AcceptPriceChange
    | SubstituteProduct
    | ReducePurchaseLineQuantity
    | Expedite
    | ChangeSaleCommitment
    | CreateReturn
    | IssueCreditNote
    | SetTicketLabels
    | SendCustomerReply,
    Field(discriminator="action_type"),
]


class Target(BaseModel):
    """The Odoo record an action changes, and what it looked like when the proposal was made."""

    model_config = ConfigDict(frozen=True)

    model: str
    id: int
    display_name: str
    write_date: str | None = Field(description="The record's write_date at proposal time: it must not change")
    expect: dict[str, Any] = Field(
        default_factory=dict, description="Field values the executor re-checks before acting (state, amounts, ...)"
    )


class DiffLine(BaseModel):
    """One human-readable change: field, before, after."""

    model_config = ConfigDict(frozen=True)

    field: str
    before: str
    after: str


class Evidence(BaseModel):
    """Where the proposal comes from: an email, a ticket, a Slack thread, a record."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["email", "ticket", "slack", "record", "document"]
    label: str
    url: str | None = None
    model: str | None = None
    res_id: int | None = None


class Proposal(BaseModel):
    """An action the copilot proposes; people decide in Odoo."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(max_length=200)
    payload: ActionPayload
    target: Target
    diff: list[DiffLine]
    amount: float | None = Field(default=None, description="Financial exposure, in `currency`")
    currency: str | None = None
    risk_tier: RiskTier = RiskTier.LOW
    reasons: list[str] = Field(default_factory=list, description="Why this tier (policy and guardrail findings)")
    evidence: list[Evidence] = Field(default_factory=list)
    source: str = Field(description="The skill that proposed it, e.g. supplier_email")
    flagged_input: bool = Field(
        default=False,
        description="The source showed attack signs (hidden text, AI instructions, a claimed approval...)",
    )
    on_behalf_of: str | None = Field(default=None, description="The person who asked (login or e-mail)")

    @property
    def action_type(self) -> ActionType:
        """The payload's action type."""
        return self.payload.action_type

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idempotency_key(self) -> str:
        """Same action on the same record with the same payload: same key (one request, however often proposed)."""
        canonical = json.dumps(
            {
                "action": self.payload.action_type.value,
                "target": [self.target.model, self.target.id],
                "payload": self.payload.model_dump(mode="json"),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return "copilot-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
