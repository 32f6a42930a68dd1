"""Action proposals from supplier emails: the actions proposed, their targets, new values, tier and mode.

Each case is an email (the supplier-email suite's shape) read by ``summarize_supplier_email``, turned
into proposals by ``proposals_from_supplier_email`` and decided by the policy (``COPILOT_POLICY_FILE``,
else ``policy.example.yaml``) at a fixed "now", as ``copilot propose`` does. Nothing is submitted.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from copilot.approvals import decide, load_policy, proposals_from_supplier_email
from evals.schema import EvalCase
from evals.scorers.proposals import rates, score_proposals
from evals.suites.base import CaseResult, SuiteContext
from evals.suites.supplier_email import summarize
from odoo_sandbox import RECORDED_AT

__all__ = ["ProposalsSuite"]

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "policy.example.yaml"
#: "Now" for the policy (expiry): the moment the sandbox was recorded.
NOW = RECORDED_AT.replace(tzinfo=UTC)


class ProposalsSuite:
    """``evals/datasets/proposals.jsonl``: supplier email -> summary -> proposals -> policy decision."""

    name = "proposals"
    skill = "approvals"
    dataset = "proposals.jsonl"
    metrics = (
        "action_precision",
        "action_recall",
        "action_f1",
        "new_value_accuracy",
        "tier_accuracy",
        "mode_accuracy",
        "no_unwarranted_rate",
    )

    def prepare(self, context: SuiteContext) -> None:
        """Load the policy once: the configured one, else the example policy."""
        policy_file = context.settings.policy_file or EXAMPLE_POLICY
        context.state["policy"] = load_policy(policy_file)
        context.state["policy_file"] = str(policy_file)

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The proposals with their decision, and the changes the summary saw (to explain a miss)."""
        summary = summarize(case, context)
        proposals = []
        for p in proposals_from_supplier_email(summary, context.client):
            decision = decide(context.state["policy"], p, now=NOW)
            payload = p.payload.model_dump(mode="json")
            proposals.append(
                {
                    "action_type": p.action_type.value,
                    "target": p.target.display_name,
                    "new_date": str(payload["new_date"])[:10] if payload.get("new_date") else None,
                    "new_price": payload.get("new_price"),
                    "new_product": payload.get("new_product"),
                    "new_quantity": payload.get("new_quantity"),
                    "amount": p.amount,
                    "tier": decision.tier.value,
                    "mode": decision.mode.value,
                    "approvers": decision.approvers_needed,
                    "title": p.title,
                }
            )
        changes = [
            {
                "kind": c.kind.value,
                "po": c.po_name,
                "date": c.email_date.isoformat() if c.email_date else None,
                "line_id": c.line_id,
                "unverified": c.unverified,
                "matched": c.matched_in_odoo,
            }
            for c in summary.changes
        ]
        return {
            "proposals": proposals,
            "changes": changes,
            "warnings": summary.warnings,
            "engine": summary.engine,
            "policy": context.state["policy_file"],
        }

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Pair counts, value/tier/mode correctness; a case passes when the proposal set matches exactly."""
        return score_proposals(case.target, output)

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Micro precision/recall/F1 over (action type, target), accuracies, the no-unwarranted rate."""
        metrics = rates(r.scores for r in results)
        extras = {
            "unwarranted_cases": sorted(r.id for r in results if r.scores.get("unwarranted")),
            "missed_cases": sorted(r.id for r in results if r.scores.get("pairs_fn")),
        }
        return metrics, extras
