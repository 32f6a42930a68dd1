"""What could be done about an order at risk, as approval-proposal payloads (dicts) and hints; never submitted.

Existing action types where they fit: ``expedite`` the late or revised PO, ``change_so_commitment`` to the date
the cover arrives. The rest are hints for a person or another skill, each with ``hint: True``:
``reallocate_stock`` (a later order holds reserved units of the product), ``split_delivery`` (part of the
order can ship now) and ``inform_customer`` (a ``draft_reply`` request grounded in the order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from copilot.approvals.schemas import ChangeSaleCommitment, Expedite
from copilot.skills.at_risk.cover import Demand
from copilot.skills.at_risk.scoring import LineRisk

__all__ = ["proposals_for"]


def proposals_for(
    *,
    order_id: int,
    order_name: str,
    customer: tuple[int, str] | None,
    committed: datetime | None,
    risks: Sequence[LineRisk],
    order_lines: Sequence[Demand],
    donors: Mapping[int, Sequence[tuple[Demand, str]]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The proposals and hints for one order at risk (``risks``: its lines at risk, worst first)."""
    out: list[dict[str, Any]] = []
    out += _expedite(risks, now)
    need = min((r.demand.need for r in risks if r.demand.need is not None), default=None)
    ready = [r.ready for r in risks]
    if ready and all(d is not None for d in ready):
        new_date = max(d for d in ready if d is not None)
        if need is None or new_date > need:
            out.append(
                ChangeSaleCommitment(
                    so_id=order_id, so_name=order_name, old_date=committed, new_date=new_date
                ).model_dump(mode="json")
            )
    out += _reallocate(risks, donors, order_name)
    at_risk_lines = {r.demand.line_id for r in risks}
    ready_lines = [d for d in order_lines if d.line_id not in at_risk_lines and d.short <= 1e-9]
    partly = [r for r in risks if r.demand.reserved > 0]
    if ready_lines or partly:
        shippable = [f"{d.ordered:g} {d.product}" for d in ready_lines] + [
            f"{r.demand.reserved:g} of {r.demand.ordered:g} {r.demand.product}" for r in partly
        ]
        out.append(
            {
                "action_type": "split_delivery",
                "hint": True,
                "so_id": order_id,
                "so_name": order_name,
                "pickings": sorted({p[1] for r in risks for p in r.demand.pickings}),
                "ship_now": shippable,
            }
        )
    worst = risks[0]
    when = f" by {worst.ready:%Y-%m-%d}" if worst.ready else ""
    out.append(
        {
            "action_type": "inform_customer",
            "hint": True,
            "skill": "draft_reply",
            "so_id": order_id,
            "so_name": order_name,
            "partner_id": customer[0] if customer else None,
            "request": {
                "message": f"Where is my order {order_name}?",
                "customer": customer[1] if customer else None,
            },
            "facts": f"{worst.demand.product} on {order_name} is expected{when or ' later than promised'}.",
        }
    )
    return out


def _expedite(risks: Sequence[LineRisk], now: datetime) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for risk in risks:
        supply = risk.worst
        if supply is None or supply.purchase_order is None or supply.vendor is None:
            continue
        if supply.late_days <= 0 and not risk.has("cover_after_commitment"):
            continue
        po_id, po_name = supply.purchase_order
        need = risk.demand.need
        needed_by = max(need, now).date() if need is not None else None
        quantity = sum(p.quantity for p in risk.demand.pieces if p.supply.purchase_order == supply.purchase_order)
        wanted = f"{quantity:g} {risk.demand.product}"
        if po_id in seen:
            seen[po_id]["message"] += f"; {wanted}"
            continue
        by = f" by {needed_by:%Y-%m-%d}" if needed_by else ""
        payload = Expedite(
            po_id=po_id,
            po_name=po_name,
            vendor_id=supply.vendor[0],
            needed_by=needed_by,
            message=f"Could you ship {po_name} sooner? We need{by}: {wanted}",
        ).model_dump(mode="json")
        seen[po_id] = payload
    for payload in seen.values():
        payload["message"] = str(payload["message"])[:3990] + ". Please confirm the date."
    return list(seen.values())


def _reallocate(
    risks: Sequence[LineRisk], donors: Mapping[int, Sequence[tuple[Demand, str]]], order_name: str
) -> list[dict[str, Any]]:
    """Units reserved for a later order of the same product could ship this one first."""
    out = []
    for risk in risks:
        line = risk.demand
        if line.need is None:
            continue
        for donor, donor_order in donors.get(line.product_id, ()):  # most reserved first
            if donor.reserved < line.short:
                break
            if donor.order_id != line.order_id and donor.need is not None and donor.need > line.need:
                out.append(
                    {
                        "action_type": "reallocate_stock",
                        "hint": True,
                        "product": line.product,
                        "quantity": line.short,
                        "to_order": order_name,
                        "from_order": donor_order,
                        "from_order_id": donor.order_id,
                        "from_pickings": [p[1] for p in donor.pickings],
                    }
                )
                break
    return out
