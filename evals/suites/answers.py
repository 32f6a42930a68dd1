"""Buyer questions: the intent understood, the purchase orders named, grounding and citations."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from copilot.skills.answer import answer_question
from copilot.text.references import PO_REF
from evals.schema import EvalCase
from evals.suites.base import CaseResult, SuiteContext
from odoo_sandbox import RECORDED_AT

__all__ = ["AnswersSuite"]


class AnswersSuite:
    """``evals/datasets/answers.jsonl`` through ``answer_question`` (no thread: each question stands alone)."""

    name = "answers"
    skill = "answer"
    dataset = "answers.jsonl"
    metrics = ("intent_accuracy", "po_f1", "grounded_rate", "citation_valid_rate", "mention_coverage")

    def prepare(self, context: SuiteContext) -> None:
        """Nothing to set up."""

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The answer's text, intent, the POs it names and whether each is cited."""
        answer = answer_question(
            case.input["question"],
            client=context.client,
            settings=context.settings,
            llm=context.llm,
            as_of=RECORDED_AT.replace(tzinfo=UTC),
        )
        cited = {c.display_name for c in answer.citations if c.model == "purchase.order"}
        text = answer.text
        for example in answer.can_answer:  # "what it can answer" lists example questions, not facts
            text = text.replace(example, " ")
        named = sorted(set(PO_REF.findall(text)))
        asked = set(PO_REF.findall(case.input["question"]))
        return {
            "text": answer.text,
            "intent": str(answer.intent),
            "pos": named,
            "uncited": [p for p in named if p not in cited and p not in asked],  # echoing the question is fine
            "grounded": answer.grounding.grounded,
            "engine": answer.engine,
        }

    def judge_pair(self, case: EvalCase, output: dict[str, Any]) -> tuple[str, str] | None:
        """The question and the answer, for the optional LLM judge."""
        return case.input["question"], str(output.get("text", ""))

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Intent, PO set (tp/fp/fn), grounding, citations, required mentions."""
        want, got = set(case.target.get("pos", [])), set(output.get("pos", []))
        must = case.target.get("must_mention", [])
        text = str(output.get("text", "")).lower()
        scores = {
            "intent_correct": float(output.get("intent") == case.target.get("intent")),
            "po_tp": len(want & got),
            "po_fp": len(got - want),
            "po_fn": len(want - got),
            "grounded": float(bool(output.get("grounded"))),
            "citations_valid": float(not output.get("uncited")),
            "mention_coverage": sum(m.lower() in text for m in must) / len(must) if must else 1.0,
        }
        passed = scores["intent_correct"] == 1.0 and want == got and scores["grounded"] == 1.0
        return scores, passed

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Rates over the cases, micro F1 over the POs named."""
        rows = [r.scores for r in results]
        n = len(rows) or 1
        tp, fp, fn = (sum(r.get(k, 0.0) for r in rows) for k in ("po_tp", "po_fp", "po_fn"))
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        return {
            "intent_accuracy": sum(r.get("intent_correct", 0.0) for r in rows) / n,
            "po_precision": precision,
            "po_recall": recall,
            "po_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "grounded_rate": sum(r.get("grounded", 0.0) for r in rows) / n,
            "citation_valid_rate": sum(r.get("citations_valid", 0.0) for r in rows) / n,
            "mention_coverage": sum(r.get("mention_coverage", 0.0) for r in rows) / n,
        }, {}
