"""Supplier-email extraction: the skill's PO references, change kinds, dates, quantities, prices and tracking."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from copilot.email import parse_email
from copilot.skills.supplier_email import summarize_supplier_email
from copilot.skills.supplier_email.schemas import ChangeKind, EmailReference, SupplierEmailSummary
from evals.fixtures.attachments import build_attachment
from evals.schema import EvalCase
from evals.scorers.extraction import FAMILIES, language_of, prf, prf_all, score_extraction
from evals.suites.base import CaseResult, SuiteContext

__all__ = ["LANGUAGES", "SupplierEmailSuite", "to_rfc822", "tracking_output"]

#: The languages the dataset is written in (``lang:xx`` tags; English when untagged).
LANGUAGES = ("en", "de", "fr", "es", "nl")


def to_rfc822(data: dict[str, Any]) -> bytes:
    """The case's email as the bytes a mailbox would hold."""
    msg = EmailMessage()
    msg["Subject"] = data.get("subject", "")
    msg["From"] = data.get("from", "")
    msg["To"] = data.get("to", "purchasing@yourcompany.example.com")
    if data.get("date"):
        from datetime import datetime
        from email.utils import format_datetime

        msg["Date"] = format_datetime(datetime.fromisoformat(data["date"]))
    msg.set_content(data.get("body", ""))
    for spec in data.get("attachments") or []:  # described in the case, built by evals/fixtures/attachments.py
        filename, content, (maintype, subtype) = build_attachment(spec)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def tracking_output(references: list[EmailReference]) -> list[dict[str, Any]]:
    """The summary's tracking references in the dataset's shape: number without spaces, upper-case; carrier."""
    return [
        {"number": "".join(ref.value.split()).upper(), "carrier": ref.carrier}
        for ref in references
        if ref.kind == "tracking"
    ]


def summarize(case: EvalCase, context: SuiteContext) -> SupplierEmailSummary:
    """The skill's summary of a case's email, with the suite context's Odoo, model and injection detector."""
    return summarize_supplier_email(
        parse_email(to_rfc822(case.input)),
        client=context.client,
        settings=context.settings,
        llm=context.llm,
        injection=context.components.injection,
    )


class SupplierEmailSuite:
    """``evals/datasets/supplier_email.jsonl`` through ``summarize_supplier_email``."""

    name = "supplier_email"
    dataset = "supplier_email.jsonl"
    metrics = (
        "references_f1",
        "kinds_f1",
        "dates_f1",
        "quantities_f1",
        "prices_f1",
        "tracking_f1",
        "exact_match",
        *(f"{metric}_{lang}" for lang in LANGUAGES for metric in ("exact_match", "f1")),
    )

    def prepare(self, context: SuiteContext) -> None:
        """Nothing to set up: the skill reads Odoo per email."""

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The summary's references and changes, in the dataset's shape."""
        summary = summarize(case, context)
        changes = []
        for c in summary.changes:
            change: dict[str, Any] = {"kind": c.kind.value, "po": c.po_name}
            when = c.email_date_latest or c.email_date  # a window counts by its last day ("KW 50": its Friday)
            if when:
                change["date"] = when.isoformat()
            if c.email_quantity is not None:  # what ships now; a backorder is not a shipped quantity
                change["quantity"] = c.email_quantity.value
            # a held amount is not a price; a substitute's stated price is (the set's labelling rules)
            if c.email_price is not None and c.kind in (ChangeKind.PRICE_CHANGE, ChangeKind.SUBSTITUTION):
                change["price"] = c.email_price.amount
            if c.product_code:
                change["product_code"] = c.product_code
            if c.substitute_code:
                change["substitute_code"] = c.substitute_code
            changes.append(change)
        return {
            "po_refs": [o.name for o in summary.purchase_orders] + list(summary.unresolved_references),
            "changes": changes,
            "needs_reply": summary.needs_reply,
            "tracking": tracking_output(summary.references),
            "engine": summary.engine,
            "summary": summary.summary,
            "warnings": summary.warnings,
        }

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Field-level counts; a case passes when every family matches exactly."""
        scores = score_extraction(case.target, output)
        return scores, scores["exact"] == 1.0

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Micro P/R/F1 per family, exact-match rate, needs-reply accuracy; exact match and F1 per language."""
        rows = [r.scores for r in results]
        metrics: dict[str, float] = {}
        for family in FAMILIES:
            p, r, f = prf(rows, family)
            metrics.update({f"{family}_precision": p, f"{family}_recall": r, f"{family}_f1": f})
        metrics["exact_match"] = sum(row.get("exact", 0.0) for row in rows) / len(rows) if rows else 0.0
        replies = [row["needs_reply_correct"] for row in rows if "needs_reply_correct" in row]
        metrics["needs_reply_accuracy"] = sum(replies) / len(replies) if replies else 1.0
        by_language: dict[str, list[dict[str, float]]] = {}
        for result in results:
            by_language.setdefault(language_of(result.tags), []).append(result.scores)
        for lang, lang_rows in sorted(by_language.items()):
            metrics[f"exact_match_{lang}"] = sum(row.get("exact", 0.0) for row in lang_rows) / len(lang_rows)
            metrics[f"f1_{lang}"] = prf_all(lang_rows)[2]
        return metrics, {"cases_per_language": {lang: len(rows) for lang, rows in sorted(by_language.items())}}
