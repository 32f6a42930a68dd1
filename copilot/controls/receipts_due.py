"""``receipts_due_today``: receipts expected today (or within ``horizon_days``) the supplier has not confirmed.

A receipt is a confirmed PO with goods still to receive whose expected arrival (``date_planned``) falls in the
window. On Odoo 18 the supplier's confirmation is the PO's ``mail_reception_confirmed`` (set when the vendor
confirms the receipt reminder) and a declined one (``mail_reception_declined``) is high; Odoo 19 dropped those
fields, so there every receipt due is listed (low: nothing in Odoo says whether the supplier confirmed).
One round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.controls.model import Factor, Finding, Severity
from copilot.tools import _values as v

if TYPE_CHECKING:
    from copilot.skills.base import SkillContext

__all__ = ["ReceiptThresholds", "ReceiptsDueToday"]

FIELDS = ["name", "partner_id", "date_planned", "amount_total", "currency_id", "user_id", "receipt_status"]
#: The confirmation fields of Odoo 18 (gone in 19).
CONFIRMATION = ["mail_reception_confirmed", "mail_reception_declined"]


class ReceiptThresholds(BaseModel):
    """Days after today to include (0: today only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: int = Field(default=0, ge=0, le=30)
    limit: int = Field(default=1000, ge=1, le=100_000)


class ReceiptsDueToday:
    """Each unconfirmed receipt due in the window is one finding (key ``purchase.order:<id>``)."""

    name = "receipts_due_today"
    description = "Receipts expected today whose supplier has not confirmed them."
    thresholds_model = ReceiptThresholds

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """The window's receipts, earliest first."""
        limits = ReceiptThresholds.model_validate(dict(thresholds))
        client = ctx.odoo()
        now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
        start = datetime.combine(now.date(), time.min, tzinfo=UTC)
        end = start + timedelta(days=limits.horizon_days + 1)
        tracked = client.schema.series < 19
        domain: list[Any] = [
            ("state", "=", "purchase"),
            ("receipt_status", "in", ["pending", "partial"]),
            ("date_planned", ">=", v.odoo_datetime(start)),
            ("date_planned", "<", v.odoo_datetime(end)),
        ]
        if tracked:
            domain.append(("mail_reception_confirmed", "=", False))
        fields = FIELDS + (CONFIRMATION if tracked else [])
        rows = client.search_read("purchase.order", domain, fields, order="date_planned asc", limit=limits.limit)
        findings = []
        for row in rows:
            planned = v.when(row.get("date_planned"))
            vendor = v.ref(row.get("partner_id"))
            vendor_name = vendor.name if vendor else "?"
            declined = bool(row.get("mail_reception_declined"))
            severity: Severity = "high" if declined else ("medium" if tracked else "low")
            score = {"high": 1.0, "medium": 0.5, "low": 0.25}[severity]
            if declined:
                why, label = "the supplier declined the receipt date", "supplier declined"
            elif tracked:
                why, label = "the supplier has not confirmed it", "not confirmed by the supplier"
            else:
                why, label = "Odoo records no supplier confirmation", "no confirmation tracked"
            day = planned.date().isoformat() if planned else "today"
            citation = Citation(model="purchase.order", id=row["id"], display_name=str(row["name"]))
            findings.append(
                Finding(
                    control=self.name,
                    key=f"purchase.order:{row['id']}",
                    severity=severity,
                    score=score,
                    title=f"{row['name']} {vendor_name}: receipt due {day}, {label}",
                    reason=f"{row['name']} from {vendor_name} is due on {day} and {why}.",
                    record=citation,
                    evidence=[citation],
                    factors=[Factor(name="unconfirmed", label=label, value=day, contribution=score)],
                    since=planned,
                    details={
                        "vendor": vendor_name,
                        "amount_total": v.number(row.get("amount_total")),
                        "currency": v.currency(row.get("currency_id")),
                    },
                )
            )
        return findings
