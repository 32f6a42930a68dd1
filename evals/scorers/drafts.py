"""Scores for reply drafts: status, orders, intent, required facts, leaks, grounding, citation validity.

A draft is judged on what the customer would read (subject and body): every ``must_mention`` string
should be there, no ``must_not_mention`` string may be (another customer's name, order, PO reference
or products), and every record reference it states must be cited by the draft or be the customer's
own words (echoing "S09999" back in "we could not find S09999" claims nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REFERENCE", "passed", "references", "score_draft", "uncited_references"]

#: Record references a draft may state: sale/purchase orders, invoices and refunds, bills, pickings.
REFERENCE = re.compile(
    r"\b[SP]\d{5}\b|\b(?:INV|RINV|BILL|RBILL)/\d{4}/(?:\d{2}/)?\d{4,5}\b|\bWH/(?:IN|OUT)/\d{5}\b",
    re.IGNORECASE,
)


def references(text: str) -> list[str]:
    """The record references in ``text``, upper-cased, in order of appearance, once each."""
    return list(dict.fromkeys(m.upper() for m in REFERENCE.findall(text or "")))


def uncited_references(text: str, cited: Iterable[str], quoted: str = "") -> list[str]:
    """References in ``text`` that no citation names and ``quoted`` (the customer, a cited passage) does not hold."""
    names = [str(c).upper() for c in cited]
    own = set(references(quoted))
    return [r for r in references(text) if r not in own and not any(r in name for name in names)]


def _contains(text: str, needle: str) -> bool:
    return needle.lower() in text.lower()


def score_draft(target: Mapping[str, Any], output: Mapping[str, Any]) -> dict[str, float]:
    """Per-case scores; ``passed`` needs status, orders, no leak and grounding."""
    text = f"{output.get('subject', '')}\n{output.get('body', '')}"
    must = [str(m) for m in target.get("must_mention") or []]
    never = [str(m) for m in target.get("must_not_mention") or []]
    found = sum(_contains(text, m) for m in must)
    leaked = [m for m in never if _contains(text, m)]
    want_orders = sorted({str(o).upper() for o in target.get("orders") or []})
    got_orders = sorted({str(o).upper() for o in output.get("orders") or []})
    scores: dict[str, float] = {
        "status_correct": float(output.get("status") == target.get("status")),
        "orders_exact": float(want_orders == got_orders),
        "facts_found": float(found),
        "facts_total": float(len(must)),
        "fact_coverage": found / len(must) if must else 1.0,
        "leaked": 1.0 if leaked else 0.0,
        "grounded": float(bool(output.get("grounded"))),
        "citations_valid": 0.0 if output.get("uncited") else 1.0,
    }
    if "intent" in target:
        scores["intent_correct"] = float(output.get("intent") == target["intent"])
    return scores


def passed(scores: Mapping[str, float]) -> bool:
    """Status and orders right, nothing leaked, grounding passes."""
    return (
        scores.get("status_correct") == 1.0
        and scores.get("orders_exact") == 1.0
        and scores.get("leaked") == 0.0
        and scores.get("grounded") == 1.0
    )
