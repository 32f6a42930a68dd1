"""Field-level scores for supplier-email extraction: references, kinds, dates, quantities, prices, tracking.

Each family is a set of facts per case (e.g. ``("P00009", "new_date", "2026-12-05")``); a case scores
true/false positives and negatives per family, and the suite sums them (micro precision, recall, F1).
A case passes when every family it scores matches exactly. The tracking family is scored only for a
target with a ``tracking`` key (cases written before it existed say nothing about tracking numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FAMILIES", "extraction_facts", "language_of", "prf", "prf_all", "score_extraction"]

FAMILIES = ("references", "kinds", "dates", "quantities", "prices", "tracking")
#: The language of a case without a ``lang:`` tag.
DEFAULT_LANGUAGE = "en"
Fact = tuple[Any, ...]


def _num(value: Any) -> float | None:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _tracking_number(value: Any) -> str:
    return "".join(str(value or "").split()).upper()


def extraction_facts(result: Mapping[str, Any]) -> dict[str, set[Fact]]:
    """The facts of one extraction (a target or an output, same shape)."""
    facts: dict[str, set[Fact]] = {f: set() for f in FAMILIES}
    facts["references"] = {str(r).upper() for r in result.get("po_refs") or []}  # type: ignore[assignment]
    for change in result.get("changes") or []:
        po = str(change.get("po") or "").upper() or None
        kind = change.get("kind")
        facts["kinds"].add((po, kind))
        if change.get("date"):
            facts["dates"].add((po, kind, str(change["date"])[:10]))
        if _num(change.get("quantity")) is not None:
            facts["quantities"].add((po, kind, _num(change["quantity"])))
        if _num(change.get("price")) is not None:
            code = str(change.get("product_code") or "").upper() or None
            facts["prices"].add((po, code, _num(change["price"])))
    for ref in result.get("tracking") or []:
        carrier = str(ref.get("carrier") or "").lower() or None
        facts["tracking"].add((_tracking_number(ref.get("number")), carrier))
    return facts


def score_extraction(target: Mapping[str, Any], output: Mapping[str, Any]) -> dict[str, float]:
    """Per family ``<family>_tp``, ``_fp``, ``_fn``; ``exact`` (1.0 when all match); ``needs_reply_correct``."""
    want, got = extraction_facts(target), extraction_facts(output)
    scores: dict[str, float] = {}
    exact = True
    for family in FAMILIES:
        if family == "tracking" and "tracking" not in target:
            continue
        tp = len(want[family] & got[family])
        fp, fn = len(got[family] - want[family]), len(want[family] - got[family])
        scores.update({f"{family}_tp": tp, f"{family}_fp": fp, f"{family}_fn": fn})
        exact = exact and fp == 0 and fn == 0
    scores["exact"] = 1.0 if exact else 0.0
    if "needs_reply" in target:
        scores["needs_reply_correct"] = 1.0 if bool(output.get("needs_reply")) == bool(target["needs_reply"]) else 0.0
    return scores


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def prf(rows: Iterable[Mapping[str, float]], family: str) -> tuple[float, float, float]:
    """Micro precision, recall and F1 of ``family`` over cases (1.0 when there was nothing to find)."""
    tp = fp = fn = 0.0
    for row in rows:
        tp += row.get(f"{family}_tp", 0)
        fp += row.get(f"{family}_fp", 0)
        fn += row.get(f"{family}_fn", 0)
    return _prf(tp, fp, fn)


def prf_all(rows: Iterable[Mapping[str, float]]) -> tuple[float, float, float]:
    """Micro precision, recall and F1 over every fact of every family (one figure for a slice of cases)."""
    tp = fp = fn = 0.0
    for row in rows:
        for family in FAMILIES:
            tp += row.get(f"{family}_tp", 0)
            fp += row.get(f"{family}_fp", 0)
            fn += row.get(f"{family}_fn", 0)
    return _prf(tp, fp, fn)


def language_of(tags: Iterable[str]) -> str:
    """The case's language from its ``lang:xx`` tag (English when it has none)."""
    for tag in tags:
        if tag.startswith("lang:") and len(tag) > len("lang:"):
            return tag[len("lang:") :].lower()
    return DEFAULT_LANGUAGE
