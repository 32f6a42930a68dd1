"""``credit_hold``: confirmed sale orders still to deliver whose customer is blocked for payment or credit.

A customer is on hold when it has posted customer invoices unpaid past their due date (``account.move``:
``out_invoice``, ``payment_state`` not paid or partial, ``invoice_date_due`` more than ``grace_days`` ago),
or when Odoo warns that the order takes it over its credit limit (``sale.order.partner_credit_warning``, set
by Odoo when the company uses credit limits; the partner's ``credit_limit`` itself is not readable by the
copilot's account). Invoices are matched on the commercial partner, so an order placed by a contact of a
company counts its company's invoices. Three round trips (orders, their partners, the overdue invoices).
Severity: critical when an invoice is ``critical_days`` overdue, high when the overdue amount reaches
``high_amount`` or the credit limit is exceeded, medium otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.controls.model import Factor, Finding, Severity
from copilot.tools import _values as v

if TYPE_CHECKING:
    from copilot.skills.base import SkillContext

__all__ = ["CreditHold", "CreditThresholds"]

ORDER_FIELDS = ["name", "partner_id", "amount_total", "currency_id", "partner_credit_warning", "user_id"]
INVOICE_FIELDS = ["name", "commercial_partner_id", "invoice_date_due", "amount_residual", "currency_id"]


class CreditThresholds(BaseModel):
    """Days of grace after the due date, the overdue amount that is high, the days overdue that are critical."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grace_days: int = Field(default=0, ge=0)
    high_amount: float = Field(default=10_000, ge=0)
    critical_days: int = Field(default=30, gt=0)
    limit: int = Field(default=2000, ge=1, le=100_000)


class CreditHold:
    """Each blocked order is one finding (key ``sale.order:<id>``), with its customer's overdue invoices as evidence."""

    name = "credit_hold"
    description = (
        "Confirmed sale orders still to deliver whose customer has overdue invoices or is over its credit limit."
    )
    thresholds_model = CreditThresholds

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """The blocked orders; three round trips whatever their number."""
        limits = CreditThresholds.model_validate(dict(thresholds))
        client = ctx.odoo()
        orders = client.search_read(
            "sale.order",
            [("state", "=", "sale"), ("delivery_status", "in", ["pending", "partial"])],
            ORDER_FIELDS,
            order="id asc",
            limit=limits.limit,
        )
        if not orders:
            return []
        partner_ids = sorted({ref.id for o in orders if (ref := v.ref(o.get("partner_id")))})
        partners = client.read("res.partner", partner_ids, ["commercial_partner_id"])
        commercial: dict[int, int] = {}
        for row in partners:
            company = v.ref(row.get("commercial_partner_id"))
            commercial[row["id"]] = company.id if company else row["id"]
        cutoff = (ctx.now - timedelta(days=limits.grace_days)).date().isoformat()
        invoices = client.search_read(
            "account.move",
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ["not_paid", "partial"]),
                ("invoice_date_due", "<", cutoff),
                ("commercial_partner_id", "in", sorted(set(commercial.values()))),
            ],
            INVOICE_FIELDS,
            order="invoice_date_due asc",
        )
        overdue: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for invoice in invoices:
            owner = v.ref(invoice.get("commercial_partner_id"))
            if owner is not None:
                overdue[owner.id].append(invoice)
        findings = []
        for order in orders:
            partner = v.ref(order.get("partner_id"))
            if partner is None:
                continue
            finding = self._finding(
                order, partner.name, overdue.get(commercial.get(partner.id, partner.id), []), limits, ctx
            )
            if finding is not None:
                findings.append(finding)
        return findings

    def _finding(
        self,
        order: dict[str, Any],
        customer: str,
        invoices: list[dict[str, Any]],
        limits: CreditThresholds,
        ctx: SkillContext,
    ) -> Finding | None:
        warning = (v.text(order.get("partner_credit_warning")) or "").strip()
        if not invoices and not warning:
            return None
        today = ctx.now.date()
        amount = sum(v.number(i.get("amount_residual")) for i in invoices)
        days = max(
            ((today - due.date()).days for i in invoices if (due := v.when(i.get("invoice_date_due")))), default=0
        )
        factors = []
        severity: Severity = "medium"
        if invoices:
            currency = v.currency(invoices[0].get("currency_id"))
            factors.append(
                Factor(
                    name="overdue_invoices",
                    label=f"{len(invoices)} invoice(s) overdue, {amount:,.2f} {currency}",
                    value=amount,
                    contribution=round(days / limits.critical_days, 3),
                ),
            )
            if amount >= limits.high_amount:
                severity = "high"
            if days >= limits.critical_days:
                severity = "critical"
        if warning:
            factors.append(Factor(name="credit_limit", label=warning[:200], value=None, contribution=0.5))
            if severity == "medium":
                severity = "high"
        score = round(days / limits.critical_days + (0.5 if warning else 0.0), 3)
        citation = Citation(model="sale.order", id=order["id"], display_name=str(order["name"]))
        evidence = [citation] + [
            Citation(model="account.move", id=i["id"], display_name=str(i.get("name") or i["id"]))
            for i in invoices[:10]
        ]
        if invoices:
            why = f"{customer} has {len(invoices)} invoice(s) unpaid past their due date (oldest {days} days overdue)"
        else:
            why = f"Odoo warns that {customer} is over its credit limit"
        return Finding(
            control=self.name,
            key=f"sale.order:{order['id']}",
            severity=severity,
            score=score,
            title=f"{order['name']} {customer}: on credit hold",
            reason=f"{order['name']} is still to deliver and {why}.",
            record=citation,
            evidence=evidence,
            factors=factors,
            details={
                "customer": customer,
                "overdue_amount": round(amount, 2),
                "days_overdue": days,
                "order_amount": v.number(order.get("amount_total")),
                "credit_warning": warning or None,
            },
        )
