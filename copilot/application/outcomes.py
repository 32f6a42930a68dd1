"""What the facade's use cases return to the channels (pydantic models: the channels only translate them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from copilot.approvals import Proposal
from copilot.skills.supplier_email import SupplierEmailSummary

__all__ = ["SenderKind", "SenderRoles", "SupplierEmailOutcome"]

SenderKind = Literal["vendor", "customer", "vendor_and_customer", "unknown"]


class SenderRoles(BaseModel):
    """What Odoo knows of an outside address: whether its company buys from us, sells to us, or both."""

    vendor: bool = False
    customer: bool = False

    @property
    def kind(self) -> SenderKind:
        """``vendor``, ``customer``, ``vendor_and_customer`` or ``unknown``."""
        if self.vendor and self.customer:
            return "vendor_and_customer"
        return "vendor" if self.vendor else "customer" if self.customer else "unknown"


class SupplierEmailOutcome(BaseModel):
    """A supplier email's summary, the proposals it supports and who should hear about it.

    ``supplier`` False: the shared mailbox found it is not a supplier's mail (the sender is no vendor and no PO
    it names is in Odoo); the channel handles it as a customer's. ``summary`` is None when nothing was summarized.
    """

    supplier: bool = True
    sender: SenderRoles = Field(default_factory=SenderRoles)
    summary: SupplierEmailSummary | None = None
    proposals: list[Proposal] = Field(default_factory=list)
    recipients: list[str] = Field(
        default_factory=list, description="Email addresses of the POs' buyers (else the person who forwarded it)"
    )
