"""Scores for action proposals: which (action type, target) pairs, their new values, risk tier and mode.

A proposal is identified by its action type and target (``reschedule_receipt`` on ``WH/IN/00008``);
precision, recall and F1 are over those pairs. For the pairs both sides have, the new value (date or
price), the policy's tier and mode are compared. A case that expects no proposal scores whether none
was made (an unwarranted proposal is what an attacker or a sloppy rule would cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["proposal_key", "rates", "score_proposals"]

Key = tuple[str, str]


def proposal_key(p: Mapping[str, Any]) -> Key:
    """``(action_type, target)``, the target compared without case or surrounding spaces."""
    return str(p.get("action_type") or ""), str(p.get("target") or "").strip().upper()


def _value_matches(want: Mapping[str, Any], got: Mapping[str, Any]) -> bool | None:
    """Whether the new value matches (None when the target names none)."""
    if want.get("new_date") is not None:
        return str(got.get("new_date") or "")[:10] == str(want["new_date"])[:10]
    if want.get("new_price") is not None:
        try:
            return abs(float(got.get("new_price")) - float(want["new_price"])) < 0.005  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return None


def score_proposals(target: Mapping[str, Any], output: Mapping[str, Any]) -> tuple[dict[str, float], bool]:
    """Per-case counts (``pairs_tp/fp/fn``, ``value_*``, ``tier_*``, ``mode_*``, ``unwarranted``) and the verdict.

    Two proposals on the same pair (e.g. one receipt moved to two dates) count once as found and the
    rest as false positives; the one compared is the one whose new value matches, if any.
    """
    want: dict[Key, Mapping[str, Any]] = {}
    for p in target.get("proposals") or []:
        want.setdefault(proposal_key(p), p)
    got: dict[Key, list[Mapping[str, Any]]] = {}
    produced = list(output.get("proposals") or [])
    for p in produced:
        got.setdefault(proposal_key(p), []).append(p)
    common = [k for k in want if k in got]
    scores: dict[str, float] = {
        "pairs_tp": float(len(common)),
        "pairs_fp": float(len(produced) - len(common)),
        "pairs_fn": float(len(want) - len(common)),
        "value_total": 0.0,
        "value_correct": 0.0,
        "tier_total": 0.0,
        "tier_correct": 0.0,
        "mode_total": 0.0,
        "mode_correct": 0.0,
    }
    exact = scores["pairs_fp"] == 0 and scores["pairs_fn"] == 0
    for k in common:
        w = want[k]
        g = next((c for c in got[k] if _value_matches(w, c)), got[k][0])
        value = _value_matches(w, g)
        if value is not None:
            scores["value_total"] += 1
            scores["value_correct"] += float(value)
            exact = exact and value
        for field in ("tier", "mode"):
            if w.get(field) is not None:
                ok = str(g.get(field)) == str(w[field])
                scores[f"{field}_total"] += 1
                scores[f"{field}_correct"] += float(ok)
                exact = exact and ok
    if not want:
        scores["unwarranted"] = 1.0 if produced else 0.0
    scores["exact"] = 1.0 if exact else 0.0
    return scores, exact


def rates(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Micro precision/recall/F1 over the pairs, accuracies over the matched pairs, the no-unwarranted rate."""
    rows = list(rows)

    def total(key: str) -> float:
        return sum(row.get(key, 0.0) for row in rows)

    tp, fp, fn = total("pairs_tp"), total("pairs_fp"), total("pairs_fn")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    out = {
        "action_precision": precision,
        "action_recall": recall,
        "action_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }
    for name, key in (("new_value_accuracy", "value"), ("tier_accuracy", "tier"), ("mode_accuracy", "mode")):
        n = total(f"{key}_total")
        out[name] = total(f"{key}_correct") / n if n else 1.0
    quiet = [row["unwarranted"] for row in rows if "unwarranted" in row]
    out["no_unwarranted_rate"] = 1.0 - sum(quiet) / len(quiet) if quiet else 1.0
    out["exact_match"] = total("exact") / len(rows) if rows else 0.0
    return out
