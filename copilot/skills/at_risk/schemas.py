"""The at-risk skill's input and output (stable: the control, the eval and the channels read them)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from copilot.citations import Citation
from copilot.controls.model import Factor, Severity

__all__ = ["AtRiskInput", "AtRiskItem", "AtRiskQueue"]


class AtRiskInput(BaseModel):
    """What to score: all open sale orders, or those fed by some purchase orders (a PO's date changed)."""

    purchase_orders: list[str] | None = Field(default=None, description="Only orders these POs feed (names)")
    sale_orders: list[str] | None = Field(default=None, description="Only these sale orders (names)")
    limit: int | None = Field(default=None, ge=1, description="Keep the top N")
    key_accounts: list[str] | None = Field(
        default=None, description="Customers (partner names) weighted as key accounts, besides tagged partners"
    )
    key_account_tags: list[str] | None = Field(
        default=None, description="Partner tags marking key accounts (matched with ilike); default: 'key account'"
    )


class AtRiskItem(BaseModel):
    """One sale order at risk (its worst lines), with why and what could be done."""

    order: str = Field(description="Sale order name, e.g. S00024")
    order_id: int
    customer: str
    commitment: date | None = Field(description="Commitment date, else expected date")
    expected_cover: date | None = Field(description="When the missing quantity is expected to be covered, if ever")
    risk: float = Field(ge=0.0, le=1.0, description="Probability-like risk of missing the commitment")
    priority_weight: float = Field(description="Customer priority x order value weight")
    score: float = Field(description="risk x priority_weight: the ranking key")
    severity: Severity
    reason: str = Field(description="One sentence")
    factors: list[Factor]
    evidence: list[Citation]
    lines: list[str] = Field(default_factory=list, description="The lines at risk, e.g. 'Corner Desk Right Sit x10'")
    purchase_orders: list[str] = Field(default_factory=list, description="POs expected to cover it")
    proposals: list[dict[str, object]] = Field(default_factory=list)


class AtRiskQueue(BaseModel):
    """The ranked queue, worst first."""

    as_of: date
    items: list[AtRiskItem]
    lines_scored: int
    odoo_round_trips: int | None = None
