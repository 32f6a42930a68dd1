"""``approvals_waiting``: approval requests still pending beyond their SLA, or close to expiring undecided.

Reads the addon's requests (``COPILOT_APPROVAL_MODEL``, one round trip). The SLA is ``sla_hours``, or the
action type's own (``action_types: {reschedule_po_line: 8}``); waiting past it is medium, past twice it high,
past four times it critical, and a request expiring within ``expiring_hours`` is critical whatever its age.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.controls._levels import Levels, aware, hours_between, severity_of
from copilot.controls.model import Factor, Finding, Severity
from copilot.tools import _values as v

if TYPE_CHECKING:
    from copilot.skills.base import SkillContext

__all__ = ["ApprovalThresholds", "ApprovalsWaiting"]

FIELDS = ["name", "action_type", "state", "create_date", "expires_at", "res_model", "res_id", "res_name"]


class ApprovalThresholds(BaseModel):
    """The SLA in hours (per action type where given) and how close to expiry is critical."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_hours: float = Field(default=24, gt=0)
    action_types: dict[str, float] = Field(default_factory=dict)
    expiring_hours: float = Field(default=12, ge=0)
    limit: int = Field(default=1000, ge=1, le=100_000)

    def sla(self, action_type: str) -> float:
        """The SLA of ``action_type`` in hours."""
        return float(self.action_types.get(action_type, self.sla_hours))


class ApprovalsWaiting:
    """Each pending request past its SLA is one finding (key ``<approval model>:<id>``)."""

    name = "approvals_waiting"
    description = "Approval requests still pending beyond their SLA (or about to expire undecided)."
    thresholds_model = ApprovalThresholds

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """One round trip: the pending requests, oldest first."""
        limits = ApprovalThresholds.model_validate(dict(thresholds))
        model = ctx.settings.approval_model
        rows = ctx.odoo().search_read(model, [("state", "=", "pending")], FIELDS, order="id asc", limit=limits.limit)
        findings = []
        for row in rows:
            created = v.when(row.get("create_date"))
            if created is None:
                continue
            action = v.text(row.get("action_type")) or "unknown"
            sla = limits.sla(action)
            waited = hours_between(created, ctx.now)
            severity: Severity | None = severity_of(waited, Levels(medium=sla, high=2 * sla, critical=4 * sla))
            score = round(waited / (4 * sla), 3)
            factors = [
                Factor(
                    name="waiting_hours",
                    label=f"pending for {waited:.0f} h (SLA {sla:.0f} h)",
                    value=round(waited, 1),
                    contribution=score,
                ),
            ]
            expires = v.when(row.get("expires_at"))
            if expires is not None:
                left = (expires - aware(ctx.now)).total_seconds() / 3600.0
                if left <= limits.expiring_hours:
                    severity = "critical"
                    score = max(score, 1.0)
                    label = f"expires in {max(left, 0):.0f} h" if left > 0 else "expired undecided"
                    factors.append(Factor(name="expiring", label=label, value=round(left, 1), contribution=1.0))
            if severity is None:
                continue
            title = v.text(row.get("name")) or f"request {row['id']}"
            citation = Citation(model=model, id=row["id"], display_name=title)
            evidence = [citation]
            target_id = row.get("res_id")
            target_model = v.text(row.get("res_model"))
            if target_model and isinstance(target_id, int) and target_id > 0:
                evidence.append(
                    Citation(model=target_model, id=target_id, display_name=v.text(row.get("res_name")) or target_model)
                )
            findings.append(
                Finding(
                    control=self.name,
                    key=f"{model}:{row['id']}",
                    severity=severity,
                    score=score,
                    title=f"{title}: waiting {waited:.0f} h for a decision",
                    reason=f"The {action.replace('_', ' ')} request has waited {waited:.0f} h for a decision; its "
                    f"SLA is {sla:.0f} h.",
                    record=citation,
                    evidence=evidence,
                    factors=factors,
                    since=created,
                    details={"action_type": action, "waiting_hours": round(waited, 1), "sla_hours": sla},
                )
            )
        return findings
