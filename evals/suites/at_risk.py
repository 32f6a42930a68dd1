"""Orders at risk: the skill's ranked queue on sandboxes whose dates and quantities each case moved.

Each case (``evals/datasets/at_risk.jsonl``, built from ``at_risk.yaml`` by ``python -m evals.fixtures.at_risk_build``)
is a scenario: mutations written into a fresh in-process sandbox (``evals.fixtures.at_risk_scenario``), then the
registered ``orders_at_risk`` skill runs on it as the copilot's read-only user at the recording's "now", and its
queue is scored against the orders the case's truth simulation (``evals.fixtures.at_risk_truth``) found late.
The orders the skill gives a risk of at least ``FLAG_AT`` (0.5) are its prediction "late": precision@10 and recall
are over them, the on-time orders among them are false alarms; MRR reads the whole ranked queue. Every case builds
its own sandbox, so the suite never touches the run's Odoo (a configured real Odoo is not mutated: this suite
always runs on the sandbox).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from copilot.odoo import OdooClient
from copilot.skills.at_risk.schemas import AtRiskInput, AtRiskQueue
from copilot.skills.base import SkillContext
from evals.fixtures.at_risk_scenario import Scenario, scenario_sandbox
from evals.schema import EvalCase
from evals.scorers.ranking import FLAG_AT, K, rank_metrics, score_ranking
from evals.suites.base import CaseResult, SuiteContext
from odoo_sandbox import RECORDED_AT, SandboxTransport

__all__ = ["SKILL_NAME", "AtRiskSuite"]

#: The skill's name in ``copilot.skills.registry.SKILLS``.
SKILL_NAME = "orders_at_risk"
#: The sandbox user the skill reads as: the copilot's read-only account.
COPILOT_LOGIN = "copilot"
#: "Now" of every case: the moment the sandbox was recorded (the dates of the scenarios count from its day).
NOW = RECORDED_AT.replace(tzinfo=UTC)


class AtRiskSuite:
    """``evals/datasets/at_risk.jsonl``: scenario -> sandbox -> ``orders_at_risk`` queue -> ranking scores."""

    name = "at_risk"
    skill = "orders_at_risk"
    dataset = "at_risk.jsonl"
    metrics = ("precision_at_10", "recall", "mrr", "safe_rejection_rate")

    def prepare(self, context: SuiteContext) -> None:
        """The skill to grade: the registered one unless the context already holds one (a test's stand-in)."""
        if "skill" not in context.state:
            from copilot.skills.registry import SKILLS

            skill = SKILLS.get(SKILL_NAME)
            if skill is None:
                from copilot.errors import ConfigError

                raise ConfigError(f"no {SKILL_NAME!r} skill is registered in copilot.skills.registry.SKILLS")
            context.state["skill"] = skill

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The queue the skill ranks on the case's sandbox: order names worst first, with risk and reason."""
        scenario = Scenario.model_validate(case.input)
        with scenario_sandbox(scenario) as server:
            user = next(u for u in server.users if u.login == COPILOT_LOGIN)  # the read-only user, as in Odoo
            client = OdooClient(
                SandboxTransport(server, login=user.login, secret=user.password, timeout=context.settings.odoo_timeout),
                approval_model=context.settings.approval_model,
                retries=0,
                description=f"at-risk scenario {case.id} (in-process sandbox)",
            )
            ctx = SkillContext(settings=context.settings, client=client, now=NOW)
            queue = context.state["skill"].run(ctx, AtRiskInput(sale_orders=scenario.sale_orders))
        queue = AtRiskQueue.model_validate(queue)
        return {
            "ranked": [item.order for item in queue.items],
            "flagged": [item.order for item in queue.items if item.risk >= FLAG_AT],
            "items": [
                {
                    "order": item.order,
                    "risk": round(item.risk, 4),
                    "score": round(item.score, 4),
                    "severity": item.severity,
                    "commitment": item.commitment.isoformat() if item.commitment else None,
                    "expected_cover": item.expected_cover.isoformat() if item.expected_cover else None,
                    "reason": item.reason,
                }
                for item in queue.items
            ],
            "lines_scored": queue.lines_scored,
        }

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Ranking counts; a case passes when it flags every late order and no on-time one."""
        late, on_time = case.target.get("late", []), case.target.get("on_time", [])
        scores = score_ranking(output.get("flagged", []), late, on_time, ranked=output.get("ranked", []), k=K)
        return scores, scores["found"] == len(late) and not scores["safe_listed"]

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Precision@10, recall, MRR, on-time orders not flagged; the cases that missed or falsely flagged."""
        metrics = rank_metrics(r.scores for r in results)
        extras = {
            "missed_late": {
                r.id: sorted(set(r.target.get("late", [])) - set((r.output or {}).get("flagged", [])))
                for r in results
                if r.scores.get("found", 0.0) < r.scores.get("late", 0.0)
            },
            "flagged_on_time": {
                r.id: [o for o in (r.output or {}).get("flagged", []) if o in set(r.target.get("on_time", []))]
                for r in results
                if r.scores.get("safe_listed")
            },
        }
        return metrics, extras
