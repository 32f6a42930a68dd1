"""Ticket triage: category, team and priority against the labels an agent would give."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot.skills.triage.labels import labels_from_catalog
from copilot.skills.triage.schemas import FIELDS, TriageInput
from copilot.skills.triage.skill import Triager
from copilot.skills.triage.training import examples_from_tickets, train_model
from copilot.tools.helpdesk import detect_helpdesk, get_tickets, load_catalog
from evals.schema import EvalCase
from evals.scorers.classification import accuracy, confusion, macro_f1
from evals.suites.base import CaseResult, SuiteContext

__all__ = ["TriageSuite"]

_TRAINED_AT = datetime(2026, 11, 26, 16, 5, 5)


class TriageSuite:
    """``evals/datasets/triage.jsonl`` through a model trained on the Odoo tickets (fixed seed)."""

    name = "triage"
    dataset = "triage.jsonl"
    metrics = ("category_accuracy", "category_macro_f1", "team_accuracy", "team_macro_f1", "priority_accuracy")

    def prepare(self, context: SuiteContext) -> None:
        """Train on the labelled tickets of the Odoo under test, as ``copilot triage train`` does."""
        client = context.client
        catalog = load_catalog(client, detect_helpdesk(client))
        labels = labels_from_catalog(catalog)
        examples = examples_from_tickets(get_tickets(client, catalog, limit=100_000), labels)
        embedder = context.components.embedder  # the run's root's
        model = train_model(examples, labels, catalog, embedder, odoo="eval", database="eval", trained_at=_TRAINED_AT)
        context.state["triager"] = Triager(
            labels=labels,
            embedder=embedder,
            model=model,
            threshold=context.settings.triage_min_confidence,
            llm=context.llm,
            llm_timeout=context.settings.llm_deadline if context.llm is not None else None,
        )
        if context.llm is not None:
            from copilot.prompts import load_prompt
            from copilot.skills.triage.llm_path import PROMPT_NAME

            context.state["triager"].prompt = load_prompt(PROMPT_NAME)

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """Labels, probabilities and the needs-a-person verdict."""
        triager: Triager = context.state["triager"]
        item = TriageInput(subject=case.input.get("subject", ""), body=case.input.get("body", ""))
        result = triager.classify(item)
        out: dict[str, Any] = {
            "needs_human": result.needs_human,
            "reasons": result.reasons,
            "threshold": result.threshold,
        }
        for p in result.predictions:
            out[p.field] = p.label.name if p.field != "priority" else str(p.label.value)
            out[f"{p.field}_probability"] = p.probability
        return out

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Per-field correctness and coverage; a case passes when category and team are right."""
        scores = {f"{f}_correct": float(output.get(f) == case.target.get(f)) for f in FIELDS if f in case.target}
        threshold = float(output.get("threshold", 0.6))
        for f in FIELDS:
            if f"{f}_probability" in output:
                scores[f"{f}_covered"] = float(output[f"{f}_probability"] >= threshold)
        scores["covered"] = 0.0 if output.get("needs_human") else 1.0
        return scores, scores.get("category_correct", 1.0) == 1.0 and scores.get("team_correct", 1.0) == 1.0

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Accuracy and macro-F1 per field, coverage and accuracy on covered cases, confusion matrices."""
        metrics: dict[str, float] = {}
        extras: dict[str, Any] = {}
        for f in FIELDS:
            pairs = [(r.target[f], (r.output or {}).get(f)) for r in results if f in r.target]
            if not pairs:
                continue
            truth, predicted = [t for t, _ in pairs], [p for _, p in pairs]
            metrics[f"{f}_accuracy"] = accuracy(truth, predicted)
            covered = [r for r in results if f in r.target and r.scores.get(f"{f}_covered")]
            metrics[f"{f}_coverage"] = len(covered) / len(pairs)
            metrics[f"{f}_covered_accuracy"] = (
                sum(r.scores.get(f"{f}_correct", 0.0) for r in covered) / len(covered) if covered else 0.0
            )
            metrics[f"{f}_macro_f1"] = macro_f1(truth, predicted)
            labels, counts = confusion(truth, predicted)
            extras[f"{f}_confusion"] = {"labels": labels, "counts": counts}
        covered = [r for r in results if r.scores.get("covered")]
        metrics["coverage"] = len(covered) / len(results) if results else 0.0
        metrics["covered_pass_rate"] = sum(r.passed for r in covered) / len(covered) if covered else 0.0
        return metrics, extras
