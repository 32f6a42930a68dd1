"""``late_pos``: confirmed purchase orders past their expected arrival with goods still to receive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.controls._levels import Levels, severity_of
from copilot.controls.model import Factor, Finding
from copilot.tools.purchase import late_purchase_orders

if TYPE_CHECKING:
    from copilot.skills.base import SkillContext

__all__ = ["LatePosThresholds", "LatePurchaseOrders"]


class LatePosThresholds(BaseModel):
    """Days late at which a PO becomes a medium, high or critical exception; at most ``limit`` POs read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium_days: int = Field(default=1, ge=0)
    high_days: int = Field(default=3, ge=0)
    critical_days: int = Field(default=7, gt=0)
    limit: int = Field(default=1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> LatePosThresholds:
        self.levels()
        return self

    def levels(self) -> Levels:
        """As ``Levels`` (checks their order)."""
        return Levels(medium=self.medium_days, high=self.high_days, critical=self.critical_days)


class LatePurchaseOrders:
    """Each late PO is one finding (key ``purchase.order:<id>``); its score is days late over ``critical_days``."""

    name = "late_pos"
    description = "Confirmed purchase orders past their expected arrival with goods still to receive."
    thresholds_model = LatePosThresholds

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """One round trip: the late POs, oldest expected arrival first."""
        limits = LatePosThresholds.model_validate(dict(thresholds))
        levels = limits.levels()
        findings = []
        for po in late_purchase_orders(ctx.odoo(), as_of=ctx.now, limit=limits.limit):
            severity = severity_of(po.days_late, levels)
            if severity is None:
                continue
            score = round(po.days_late / limits.critical_days, 3)
            status = "nothing received yet" if po.receipt_status == "pending" else "partly received"
            expected = po.date_planned.date().isoformat()
            days = f"{po.days_late} day{'s' if po.days_late != 1 else ''}"
            findings.append(
                Finding(
                    control=self.name,
                    key=f"purchase.order:{po.id}",
                    severity=severity,
                    score=score,
                    title=f"{po.name} {po.vendor.name}: {days} late",
                    reason=f"{po.name} from {po.vendor.name} was expected on {expected} and is {days} late ({status}).",
                    record=po.citation,
                    evidence=[po.citation],
                    factors=[
                        Factor(
                            name="days_late",
                            label=f"expected {expected}, {days} late",
                            value=po.days_late,
                            contribution=score,
                        ),
                    ],
                    since=po.date_planned,
                    details={
                        "vendor": po.vendor.name,
                        "buyer": po.buyer.name if po.buyer else None,
                        "amount_total": po.amount_total,
                        "currency": po.currency,
                        "receipt_status": po.receipt_status,
                        "days_late": po.days_late,
                    },
                )
            )
        return findings
