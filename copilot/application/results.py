"""The result types channels render, from one place (channels never import ``copilot.tools`` or ``copilot.odoo``)."""

from __future__ import annotations

from copilot.tools.schemas import SaleOrderStatus

__all__ = ["SaleOrderStatus"]
