"""Reply drafts: status, the orders identified, intent, required facts, leaks, grounding and citations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from copilot.skills.draft_reply import DraftRequest, draft_reply
from copilot.skills.draft_reply.skill import knowledge_passages
from evals.schema import EvalCase
from evals.scorers.classification import accuracy, confusion
from evals.scorers.drafts import passed, score_draft, uncited_references
from evals.suites.base import CaseResult, SuiteContext
from odoo_sandbox import RECORDED_AT

__all__ = ["DraftsSuite"]

#: "Now" for every draft: the moment the sandbox was recorded, so lateness is stable.
AS_OF = RECORDED_AT


def _rate(rows: list[dict[str, float]], key: str) -> float:
    values = [row[key] for row in rows if key in row]
    return sum(values) / len(values) if values else 0.0


class DraftsSuite:
    """``evals/datasets/drafts.jsonl`` through ``draft_reply`` (knowledge-base passages retrieved per message)."""

    name = "drafts"
    skill = "draft_reply"
    dataset = "drafts.jsonl"
    metrics = (
        "status_accuracy",
        "orders_exact",
        "fact_coverage",
        "no_leak_rate",
        "grounded_rate",
        "citation_valid_rate",
    )

    def prepare(self, context: SuiteContext) -> None:
        """Index the sample knowledge base once, before cases run in parallel and race to index it."""
        knowledge_passages(context.settings, "returns policy", components=context.components)

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The draft's status, orders, intent, text, grounding verdict and the references it does not cite."""
        data = case.input
        request = DraftRequest(
            message=data["message"],
            subject=data.get("subject", ""),
            customer=data.get("customer"),
            sender_email=data.get("sender_email"),
        )
        draft = draft_reply(
            request,
            client=context.client,
            settings=context.settings,
            as_of=AS_OF,
            llm=context.llm,
            components=context.components,
        )
        cited = [c.display_name for c in draft.citations]
        return {
            "status": draft.status,
            "orders": draft.orders,
            "intent": draft.intent,
            "customer": draft.customer,
            "subject": draft.subject,
            "body": draft.body,
            "grounded": draft.grounding.grounded,
            "grounding": draft.grounding.summary() if not draft.grounding.grounded else "",
            "citations": [c.label() for c in draft.citations],
            # the customer's own words and the cited policy passages may name records; the rest needs a citation
            "uncited": uncited_references(
                f"{draft.subject}\n{draft.body}",
                cited,
                quoted="\n".join([request.subject, request.message, *(p.text for p in draft.kb_passages)]),
            ),
            "suggested_actions": [a.action_type for a in draft.suggested_actions],
            "open_questions": draft.open_questions,
            "engine": draft.engine,
            "fallback_reason": draft.fallback_reason,
        }

    def judge_pair(self, case: EvalCase, output: dict[str, Any]) -> tuple[str, str] | None:
        """The customer's message and the draft, for the optional LLM judge."""
        return case.input["message"], str(output.get("body", ""))

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Per-case scores; a case passes when status, orders and no-leak hold and grounding passes."""
        scores = score_draft(case.target, output)
        return scores, passed(scores)

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Rates over the cases (fact coverage over all required mentions); status and intent confusions."""
        rows = [r.scores for r in results]
        facts_total = sum(row.get("facts_total", 0.0) for row in rows)
        facts_found = sum(row.get("facts_found", 0.0) for row in rows)
        leak_rate = _rate(rows, "leaked")
        metrics = {
            "status_accuracy": _rate(rows, "status_correct"),
            "orders_exact": _rate(rows, "orders_exact"),
            "intent_accuracy": _rate(rows, "intent_correct"),
            "fact_coverage": facts_found / facts_total if facts_total else 1.0,
            "leak_rate": leak_rate,
            "no_leak_rate": 1.0 - leak_rate if rows else 0.0,
            "grounded_rate": _rate(rows, "grounded"),
            "citation_valid_rate": _rate(rows, "citations_valid"),
        }
        extras: dict[str, Any] = {}
        for field in ("status", "intent"):
            pairs = [(str(r.target[field]), (r.output or {}).get(field)) for r in results if field in r.target]
            if pairs:
                truth, predicted = [t for t, _ in pairs], [p for _, p in pairs]
                labels, counts = confusion(truth, predicted)
                extras[f"{field}_confusion"] = {"labels": labels, "counts": counts}
                metrics.setdefault(f"{field}_accuracy", accuracy(truth, predicted))
        extras["leaked_cases"] = sorted(r.id for r in results if r.scores.get("leaked"))
        extras["status_counts"] = dict(Counter(str((r.output or {}).get("status")) for r in results))
        return metrics, extras
