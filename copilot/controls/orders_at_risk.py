"""The ``orders_at_risk`` control: the at-risk skill's ranked queue as findings, one per sale order.

Thresholds (``controls.yaml``, merged over ``DEFAULTS``): ``critical``, ``high``, ``medium`` (the lowest score of
each severity; below ``medium`` is low), ``min_score`` (findings below it are not reported), ``limit`` (the top
N), ``key_accounts`` (customer names) and ``key_account_tags`` (partner tags), and, for an event trigger,
``purchase_orders`` / ``sale_orders`` (only the orders those feed or name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

from copilot.citations import Citation
from copilot.controls.model import Finding
from copilot.skills.at_risk.schemas import AtRiskInput, AtRiskItem
from copilot.skills.at_risk.scoring import RiskModel, severity_for
from copilot.skills.at_risk.skill import AtRiskSkill
from copilot.skills.base import SkillContext

__all__ = ["DEFAULTS", "OrdersAtRisk"]

#: The thresholds a control run uses unless ``controls.yaml`` says otherwise.
DEFAULTS: Mapping[str, Any] = {
    **RiskModel().severity_thresholds,
    "min_score": 0.0,
    "limit": None,
}
_SEVERITY_KEYS = ("critical", "high", "medium")


class OrdersAtRisk:
    """``Control``: open sale orders that may miss their commitment for want of stock, worst first."""

    name = "orders_at_risk"
    description = (
        "Open sale orders whose lines no stock covers in time (late, revised or missing receipts), "
        "ranked by risk x customer priority and order value"
    )

    def __init__(self, skill: AtRiskSkill | None = None) -> None:
        self._skill = skill or AtRiskSkill()

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """This run's findings: one per order at risk, severity from the score thresholds."""
        merged = {**DEFAULTS, **thresholds}
        floors = {key: _number(merged, key) for key in _SEVERITY_KEYS if merged.get(key) is not None}
        min_score = _number(merged, "min_score")
        limit = merged.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ValueError(f"orders_at_risk threshold 'limit' must be a positive whole number, not {limit!r}")
        request = AtRiskInput(
            purchase_orders=_names(merged, "purchase_orders"),
            sale_orders=_names(merged, "sale_orders"),
            key_accounts=_names(merged, "key_accounts"),
            key_account_tags=_names(merged, "key_account_tags"),
        )
        queue = self._skill.run(ctx, request)
        findings = [
            _finding(item, severity_for(item.score, floors), ctx.now) for item in queue.items if item.score >= min_score
        ]
        return findings[:limit] if limit is not None else findings


def _number(merged: Mapping[str, Any], key: str) -> float:
    value = merged.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"orders_at_risk threshold {key!r} must be a number, not {value!r}")
    return float(value)


def _names(merged: Mapping[str, Any], key: str) -> list[str] | None:
    value = merged.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"orders_at_risk threshold {key!r} must be a name or a list of names, not {value!r}")


def _finding(item: AtRiskItem, severity: Any, now: datetime) -> Finding:
    shown = ", ".join(item.lines[:3]) + (f" (+{len(item.lines) - 3} more)" if len(item.lines) > 3 else "")
    title = f"{item.order} {item.customer}: {shown}" if shown else f"{item.order} {item.customer}"
    since = None
    if item.commitment is not None:
        committed = datetime.combine(item.commitment, time.min, tzinfo=UTC)
        since = committed if committed <= now else None
    return Finding(
        control=OrdersAtRisk.name,
        key=f"sale.order:{item.order_id}",
        severity=severity,
        score=item.score,
        title=title[:300],
        reason=item.reason,
        record=Citation(model="sale.order", id=item.order_id, display_name=item.order),
        evidence=item.evidence,
        factors=item.factors,
        proposals=item.proposals,
        since=since,
        details={
            "risk": item.risk,
            "priority_weight": item.priority_weight,
            "commitment": item.commitment.isoformat() if item.commitment else None,
            "expected_cover": item.expected_cover.isoformat() if item.expected_cover else None,
            "purchase_orders": item.purchase_orders,
            "lines": item.lines,
            "customer": item.customer,
        },
    )
