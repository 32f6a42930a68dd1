"""A sale order's deliveries for staff (ordered, delivered, reserved, short, expected), as a skill."""

from __future__ import annotations

from copilot.guardrails.screening import UntrustedText
from copilot.skills.base import SkillContext
from copilot.tools.sale import sale_order_status
from copilot.tools.schemas import SaleOrderStatus

__all__ = ["ORDER_STATUS", "OrderStatusSkill"]


class OrderStatusSkill:
    """The order-status read as a ``Skill[str, SaleOrderStatus]``: an S number in, its deliveries out."""

    name = "order_status"

    def run(self, ctx: SkillContext, reference: str, /) -> SaleOrderStatus:
        """The deliveries of the sale order ``reference`` (``OdooNotFound`` when Odoo has none)."""
        return sale_order_status(ctx.odoo(), reference)

    def untrusted(self, reference: str, /) -> list[UntrustedText]:
        """Nothing: an S number is looked up, never read as text by a model."""
        return []


ORDER_STATUS = OrderStatusSkill()
