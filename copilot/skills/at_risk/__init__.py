"""Orders at risk: every open sale order line against what can cover it, scored with explainable factors.

The names are imported lazily: ``schemas`` is light, ``skill`` reads Odoo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.skills.at_risk.schemas import AtRiskInput, AtRiskItem, AtRiskQueue
    from copilot.skills.at_risk.scoring import RiskModel
    from copilot.skills.at_risk.skill import AT_RISK, AtRiskSkill

__all__ = ["AT_RISK", "AtRiskInput", "AtRiskItem", "AtRiskQueue", "AtRiskSkill", "RiskModel"]

__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("AtRiskInput", "AtRiskItem", "AtRiskQueue"), "schemas"),
        "RiskModel": "scoring",
        **dict.fromkeys(("AT_RISK", "AtRiskSkill"), "skill"),
    },
)
